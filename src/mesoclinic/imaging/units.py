"""Follicular units (hairs sharing one exit opening) and empty openings."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi
from scipy.cluster.hierarchy import fcluster, linkage

from mesoclinic.imaging.results import FollicularUnit


def group_units(points: NDArray[np.float64], radius: float) -> tuple[FollicularUnit, ...]:
    """Single-linkage groups of exit points closer than radius: one group per opening."""
    if len(points) == 0:
        return ()
    if len(points) == 1:
        labels = np.array([1])
    else:
        labels = fcluster(linkage(points, method="single"), t=radius, criterion="distance")
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

    Works on the working grid (row, col); returns (x, y) points on that grid. Experimental:
    there are no labelled empty openings to validate it against.
    """
    smooth = ndi.gaussian_filter(value, opening_radius / 2)
    background = ndi.grey_closing(smooth, size=int(4 * opening_radius) | 1)
    dots = ((background - smooth) / (background + 1e-3) > 0.12) & valid
    dots &= ~ndi.binary_dilation(shaft_mask, iterations=int(opening_radius))
    labels, count = ndi.label(dots)
    if count == 0:
        return np.zeros((0, 2))
    index = np.arange(1, count + 1)
    areas = ndi.sum_labels(dots, labels, index)
    centres = np.asarray(ndi.center_of_mass(dots, labels, index), dtype=np.float64)
    expected = np.pi * opening_radius**2
    keep = (areas > 0.3 * expected) & (areas < 3.0 * expected)
    found = centres[keep][:, ::-1]
    if len(hair_points) and len(found):
        gaps = np.linalg.norm(found[:, None, :] - hair_points[None, :, :], axis=2).min(axis=1)
        found = found[gaps > 4 * opening_radius]
    return found
