"""Measure each hair from its exit point: shaft direction, visible length and shaft width."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ANGLE_STEPS = 48
MAX_GAP = 3
MAX_LENGTH = 320
MAX_HALF_WIDTH = 20


@dataclass(frozen=True)
class ShaftTrace:
    """Direction (radians, image x right / y down), visible length and width (working px)."""

    angle: float
    length: float
    width: float


def _run_lengths(
    mask: NDArray[np.bool_], row: float, col: float, angles: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Steps along each direction that stay on the shaft mask, bridging gaps up to MAX_GAP."""
    steps = np.arange(1, MAX_LENGTH)
    rows = np.round(row + np.sin(angles)[:, None] * steps).astype(np.int64)
    cols = np.round(col + np.cos(angles)[:, None] * steps).astype(np.int64)
    inside = (rows >= 0) & (rows < mask.shape[0]) & (cols >= 0) & (cols < mask.shape[1])
    on = np.zeros((len(angles), len(steps)), dtype=bool)
    on[inside] = mask[rows[inside], cols[inside]]
    # A gap of more than MAX_GAP off-pixels ends the run.
    off = (~on).astype(np.int32)
    window: NDArray[np.int64] = np.cumsum(np.pad(off, ((0, 0), (1, 0))), axis=1)
    gap = window[:, MAX_GAP + 1 :] - window[:, : -(MAX_GAP + 1)] == MAX_GAP + 1
    samples = int(on.shape[1])
    first_gap = np.where(gap.any(axis=1), gap.argmax(axis=1), samples)
    before = np.arange(samples)[None, :] < first_gap[:, None]
    last_on = np.where(on & before, steps[None, :], 0).max(axis=1)
    return np.asarray(last_on, dtype=np.int64)


def trace_shaft(mask: NDArray[np.bool_], row: float, col: float) -> ShaftTrace:
    """Find the direction of longest shaft run from an exit point and measure along it.

    The exit point lies at one end of its shaft, so the longest run of shaft pixels leaving it
    follows the hair; scans across it give the width.
    """
    # Coarse to fine: every other direction first, then the two neighbours of the best.
    coarse = 2 * np.pi * np.arange(0, ANGLE_STEPS, 2) / ANGLE_STEPS
    coarse_lengths = _run_lengths(mask, row, col, coarse)
    best = int(np.argmax(coarse_lengths)) * 2
    fine = 2 * np.pi * np.array([best - 1, best + 1]) / ANGLE_STEPS
    fine_lengths = _run_lengths(mask, row, col, fine)
    angles = np.concatenate([[coarse[best // 2]], fine])
    lengths = np.concatenate([[coarse_lengths[best // 2]], fine_lengths])
    pick = int(np.argmax(lengths))
    angle, length = float(angles[pick]) % (2 * np.pi), int(lengths[pick])
    return ShaftTrace(angle, float(length), _width_along(mask, row, col, angle, length))


def _width_along(
    mask: NDArray[np.bool_], row: float, col: float, angle: float, length: int
) -> float:
    """Median count of shaft pixels across the shaft, over the middle half of its length."""
    if length < 2:
        return 0.0
    along = np.linspace(length / 4, 3 * length / 4, 7)
    across = np.arange(-MAX_HALF_WIDTH, MAX_HALF_WIDTH + 1)
    d_row, d_col = np.sin(angle), np.cos(angle)
    rows = np.round(row + along[:, None] * d_row + across[None, :] * d_col).astype(np.int64)
    cols = np.round(col + along[:, None] * d_col - across[None, :] * d_row).astype(np.int64)
    inside = (rows >= 0) & (rows < mask.shape[0]) & (cols >= 0) & (cols < mask.shape[1])
    on = np.zeros(rows.shape, dtype=bool)
    on[inside] = mask[rows[inside], cols[inside]]
    # Count the contiguous run through the centre line so a parallel neighbour is not added.
    centre = MAX_HALF_WIDTH
    index = np.arange(on.shape[1])[None, :]
    left = np.where(~on & (index < centre), index, -1).max(axis=1)
    right = np.where(~on & (index > centre), index, on.shape[1]).min(axis=1)
    widths = (right - left - 1)[on[:, centre]]
    # Steps across an oblique shaft are one pixel each, so the count is already perpendicular.
    return float(np.median(widths)) if len(widths) else 0.0
