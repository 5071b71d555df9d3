"""Follicular units (hairs sharing one exit opening) and empty openings."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi
from scipy.cluster.hierarchy import fcluster, linkage

from mesoclinic.imaging.results import FollicularUnit


def unit_labels(points: NDArray[np.float64], radius: float) -> NDArray[np.int64]:
    """Per exit point, the label of its unit: single-linkage groups of points closer than
    radius."""
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(points) == 1:
        return np.ones(1, dtype=np.int64)
    labels = fcluster(linkage(points, method="single"), t=radius, criterion="distance")
    return np.asarray(labels, dtype=np.int64)


def group_units(points: NDArray[np.float64], radius: float) -> tuple[FollicularUnit, ...]:
    """Single-linkage groups of exit points closer than radius: one group per opening."""
    labels = unit_labels(points, radius)
    units = []
    for label in np.unique(labels):
        members = points[labels == label]
        centre = members.mean(axis=0)
        units.append(FollicularUnit(float(centre[0]), float(centre[1]), int(len(members))))
    return tuple(sorted(units, key=lambda unit: (unit.y, unit.x)))


def empty_openings(
    value: NDArray[np.float32],
    shaft_mask: NDArray[np.bool_],
    valid: NDArray[np.bool_],
    hair_points: NDArray[np.float64],
    opening_radius: float,
) -> NDArray[np.float64]:
    """Round dark dots of about a follicle's size, away from any shaft or hair exit.

    Inputs are on the working grid; returns (x, y) points on that grid. Runs on a
    half-resolution grid for speed. Experimental: no labelled empty openings exist to
    validate it against.
    """
    half = value[::2, ::2]
    radius = opening_radius / 2
    smooth = ndi.gaussian_filter(half, radius / 2)
    background = ndi.grey_closing(smooth, size=int(4 * radius) | 1)
    dots = ((background - smooth) / (background + 1e-3) > 0.12) & valid[::2, ::2]
    near_shaft = ndi.maximum_filter(shaft_mask[::2, ::2], size=2 * int(radius) + 1)
    dots &= ~near_shaft
    labels, count = ndi.label(dots)
    if count == 0:
        return np.zeros((0, 2))
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    rows, cols = np.nonzero(labels)
    ids = labels[rows, cols]
    sum_rows = np.bincount(ids, weights=rows, minlength=count + 1)[1:]
    sum_cols = np.bincount(ids, weights=cols, minlength=count + 1)[1:]
    expected = np.pi * radius**2
    keep = (areas > 0.3 * expected) & (areas < 3.0 * expected)
    found = np.column_stack([sum_cols[keep], sum_rows[keep]]) / areas[keep, None] * 2.0
    if len(hair_points) and len(found):
        gaps = np.linalg.norm(found[:, None, :] - hair_points[None, :, :], axis=2).min(axis=1)
        found = found[gaps > 4 * opening_radius]
    return np.asarray(found, dtype=np.float64)
