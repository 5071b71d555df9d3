"""Follicular units: exit points grouped by single linkage."""

from __future__ import annotations

import numpy as np

from mesoclinic.imaging.analysis import AnalysisParams, unit_radius
from mesoclinic.imaging.units import group_units, unit_labels


def test_exits_closer_than_the_radius_share_a_unit_by_chains() -> None:
    # 0-1 and 1-2 are 70 px apart (0-2 are 140): one unit of three by single linkage.
    points = np.array([[100.0, 100.0], [170.0, 100.0], [240.0, 100.0], [600.0, 600.0]])
    labels = unit_labels(points, 80.0)
    assert labels[0] == labels[1] == labels[2] != labels[3]
    units = group_units(points, 80.0)
    assert sorted(unit.hair_count for unit in units) == [1, 3]
    assert sorted(unit.hair_count for unit in group_units(points, 60.0)) == [1, 1, 1, 1]


def test_no_or_one_exit() -> None:
    assert unit_labels(np.zeros((0, 2)), 80.0).size == 0
    assert group_units(np.zeros((0, 2)), 80.0) == ()
    assert [u.hair_count for u in group_units(np.array([[5.0, 5.0]]), 80.0)] == [1]


def test_unit_radius_is_set_for_a_1280_px_image_and_scales_with_it() -> None:
    params = AnalysisParams()
    assert unit_radius(params, 2.0) == params.unit_radius_px == 80.0  # 1280 px: 2 per work px
    assert unit_radius(params, 4.0) == 160.0  # a 2560 px image of the same field
