"""Shaft tracing from exit points: direction, visible length and width on known masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi

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


@pytest.mark.parametrize("width", [4, 7, 12])
def test_width_is_the_half_maximum_width_of_a_blurred_shaft(width: int) -> None:
    # A dark bar blurred like an out-of-focus shaft: its soft edges widen any thresholded
    # mask, but the full width at half maximum stays the drawn width.
    mask = _mask_with_shaft(100, 60, 30.0, 90, width)
    darkness = ndi.gaussian_filter(mask.astype(np.float32) * 0.6, 1.5)
    wide_mask = darkness > 0.06  # what a low segmentation threshold would keep
    from_mask = trace_shaft(wide_mask, 100.0, 60.0)
    from_profile = trace_shaft(wide_mask, 100.0, 60.0, darkness)
    assert from_mask.width > width + 2
    assert from_profile.width == pytest.approx(width, abs=1.0)
    assert from_profile.angle == from_mask.angle and from_profile.length == from_mask.length


def test_a_faint_profile_gives_no_width() -> None:
    mask = _mask_with_shaft(100, 60, 0.0, 80, 6)
    faint = mask.astype(np.float32) * 0.05  # below the darkness a shaft must reach
    assert trace_shaft(mask, 100.0, 60.0, faint).width == 0.0
