"""One-to-one pairing of two point sets within a radius (Hungarian, least total distance)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment


def match_points(
    first: NDArray[np.float64], second: NDArray[np.float64], radius: float
) -> list[tuple[int, int]]:
    """Index pairs (i, j) of first[i] and second[j], each point used at most once, no pair
    farther apart than radius; among such pairings the one of least total distance."""
    first = np.asarray(first, dtype=np.float64).reshape(-1, 2)
    second = np.asarray(second, dtype=np.float64).reshape(-1, 2)
    if len(first) == 0 or len(second) == 0:
        return []
    distance = np.linalg.norm(first[:, None, :] - second[None, :, :], axis=2)
    cost = np.where(distance <= radius, distance, 1e6)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] <= radius]
