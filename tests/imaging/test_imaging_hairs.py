"""Shaft tracing from exit points: direction, visible length and width on known masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mesoclinic.imaging.hairs import trace_shaft, trace_shafts


def _mask_with_shaft(row: int, col: int, angle_deg: float, length: int, width: int) -> np.ndarray:
    mask = np.zeros((200, 240), dtype=bool)
    angle = math.radians(angle_deg)  # image convention: y down
    for step in np.arange(0, length, 0.5):
        r = row + step * math.sin(angle)
        c = col + step * math.cos(angle)
        half = width // 2
        for offset in range(-half, width - half):
            rr = round(r + offset * math.cos(angle))
            cc = round(c - offset * math.sin(angle))
            mask[rr, cc] = True
    return mask


@pytest.mark.parametrize("angle_deg", [0.0, 45.0, 100.0, 200.0, 300.0])
def test_trace_follows_the_shaft_from_its_end(angle_deg: float) -> None:
    mask = _mask_with_shaft(100, 120, angle_deg, 60, 5)
    trace = trace_shaft(mask, 100.0, 120.0)
    turn = (math.degrees(trace.angle) - angle_deg + 180) % 360 - 180
    assert abs(turn) <= 8
    assert 55 <= trace.length <= 62
    assert 4 <= trace.width <= 7


def test_batch_tracing_equals_tracing_each_point() -> None:
    mask = _mask_with_shaft(60, 60, 20.0, 80, 5) | _mask_with_shaft(150, 200, 190.0, 50, 3)
    points = np.array([[60.0, 60.0], [150.0, 200.0], [10.0, 230.0], [100.0, 100.0]])
    batch = trace_shafts(mask, points)
    assert batch == tuple(trace_shaft(mask, row, col) for row, col in points)
    assert batch[2].length == 0 and batch[2].width == 0.0  # plain skin: nothing to follow


def test_no_points_give_no_traces() -> None:
    assert trace_shafts(np.zeros((10, 10), dtype=bool), np.zeros((0, 2))) == ()
