"""Measure each hair from its exit point: shaft direction, visible length and shaft width."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ANGLE_STEPS = 48
MAX_GAP = 3
MAX_LENGTH = 600


@dataclass(frozen=True)
class ShaftTrace:
    """Direction (radians, image x right / y down), visible length and width (working px)."""

    angle: float
    length: float
    width: float


def _run_length(
    mask: NDArray[np.bool_], row: float, col: float, d_row: float, d_col: float
) -> int:
    """Steps along a direction that stay on the shaft mask, bridging gaps up to MAX_GAP."""
    height, width = mask.shape
    last_on, gap = 0, 0
    for step in range(1, MAX_LENGTH):
        r, c = int(round(row + step * d_row)), int(round(col + step * d_col))
        if not (0 <= r < height and 0 <= c < width):
            break
        if mask[r, c]:
            last_on, gap = step, 0
        else:
            gap += 1
            if gap > MAX_GAP:
                break
    return last_on


def trace_shaft(
    mask: NDArray[np.bool_], distance: NDArray[np.float32], row: float, col: float
) -> ShaftTrace:
    """Find the direction of longest shaft run from an exit point and measure along it.

    The exit point lies at one end of its shaft, so the longest run of shaft pixels leaving it
    follows the hair; the distance transform along that run gives the half-width.
    """
    best_angle, best_length = 0.0, 0
    for index in range(ANGLE_STEPS):
        angle = 2 * np.pi * index / ANGLE_STEPS
        length = _run_length(mask, row, col, np.sin(angle), np.cos(angle))
        if length > best_length:
            best_angle, best_length = angle, length
    return ShaftTrace(best_angle, float(best_length), _width_along(distance, row, col, best_angle,
                                                                      best_length))


def _width_along(
    distance: NDArray[np.float32], row: float, col: float, angle: float, length: int
) -> float:
    """Twice the median distance-to-background over the middle of the traced shaft."""
    if length < 2:
        return float(2 * distance[int(row), int(col)])
    steps = np.arange(max(1, length // 4), max(2, 3 * length // 4 + 1))
    rows = np.clip(np.round(row + steps * np.sin(angle)).astype(int), 0, distance.shape[0] - 1)
    cols = np.clip(np.round(col + steps * np.cos(angle)).astype(int), 0, distance.shape[1] - 1)
    values = distance[rows, cols]
    values = values[values > 0]
    # The distance transform at the medial line is the half-width; +0.5 for pixel centres.
    return float(2 * np.median(values) - 1) if len(values) else 0.0
