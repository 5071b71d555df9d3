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
    mask: NDArray[np.bool_],
    rows0: NDArray[np.float64],
    cols0: NDArray[np.float64],
    angles: NDArray[np.float64],
) -> NDArray[np.int64]:
    """(points, directions) steps along each direction that stay on the shaft mask from each
    point, bridging gaps up to MAX_GAP. angles: (directions,) or (points, directions)."""
    steps = np.arange(1, MAX_LENGTH)
    angles = np.broadcast_to(angles, (len(rows0),) + np.shape(angles)[-1:])
    rows = np.round(rows0[:, None, None] + np.sin(angles)[..., None] * steps).astype(np.int64)
    cols = np.round(cols0[:, None, None] + np.cos(angles)[..., None] * steps).astype(np.int64)
    inside = (rows >= 0) & (rows < mask.shape[0]) & (cols >= 0) & (cols < mask.shape[1])
    on = np.zeros(rows.shape, dtype=bool)
    on[inside] = mask[rows[inside], cols[inside]]
    # A gap of more than MAX_GAP off-pixels ends the run.
    off = (~on).astype(np.int32)
    window: NDArray[np.int64] = np.cumsum(np.pad(off, ((0, 0), (0, 0), (1, 0))), axis=2)
    gap = window[..., MAX_GAP + 1 :] - window[..., : -(MAX_GAP + 1)] == MAX_GAP + 1
    samples = int(steps.size)
    first_gap = np.where(gap.any(axis=2), gap.argmax(axis=2), samples)
    before = np.arange(samples) < first_gap[..., None]
    last_on = np.where(on & before, steps, 0).max(axis=2)
    return np.asarray(last_on, dtype=np.int64)


def trace_shafts(mask: NDArray[np.bool_], exits: NDArray[np.float64]) -> tuple[ShaftTrace, ...]:
    """Find the direction of longest shaft run from each exit point (row, col) and measure
    along it.

    The exit point lies at one end of its shaft, so the longest run of shaft pixels leaving it
    follows the hair; scans across it give the width. All points are traced at once.
    """
    exits = np.asarray(exits, dtype=np.float64).reshape(-1, 2)
    if len(exits) == 0:
        return ()
    rows, cols = exits[:, 0], exits[:, 1]
    # Coarse to fine: every other direction first, then the two neighbours of the best.
    coarse = 2 * np.pi * np.arange(0, ANGLE_STEPS, 2) / ANGLE_STEPS
    coarse_lengths = _run_lengths(mask, rows, cols, coarse)
    best = np.argmax(coarse_lengths, axis=1) * 2
    fine = 2 * np.pi * np.stack([best - 1, best + 1], axis=1) / ANGLE_STEPS
    fine_lengths = _run_lengths(mask, rows, cols, fine)
    angles = np.concatenate([coarse[best // 2][:, None], fine], axis=1)
    lengths = np.concatenate(
        [np.take_along_axis(coarse_lengths, best[:, None] // 2, 1), fine_lengths], 1
    )
    pick = np.argmax(lengths, axis=1)
    traces = []
    for i, (row, col) in enumerate(exits):
        angle = float(angles[i, pick[i]]) % (2 * np.pi)
        length = int(lengths[i, pick[i]])
        traces.append(ShaftTrace(angle, float(length), _width_along(mask, row, col, angle, length)))
    return tuple(traces)


def trace_shaft(mask: NDArray[np.bool_], row: float, col: float) -> ShaftTrace:
    """trace_shafts for one exit point."""
    return trace_shafts(mask, np.array([[row, col]]))[0]


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
