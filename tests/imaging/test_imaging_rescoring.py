"""The rescoring stage: bundled weights load and behave like a probability."""

from __future__ import annotations

import numpy as np
import pytest

from mesoclinic.imaging.rescoring import (
    FEATURE_NAMES,
    bundled_rescore_model,
    candidate_features,
    suppress_duplicates,
)
from mesoclinic.imaging.results import DETECTORS


@pytest.mark.parametrize("detector", DETECTORS)
def test_bundled_rescore_model_matches_the_feature_list(detector: str) -> None:
    model = bundled_rescore_model(detector)
    assert len(model.weights) == len(model.mean) == len(model.scale) == len(FEATURE_NAMES)
    assert 0.0 < model.threshold < 1.0
    assert 0.0 < model.candidate_threshold < 1.0


@pytest.mark.parametrize("detector", DETECTORS)
def test_higher_detector_score_raises_the_probability(detector: str) -> None:
    model = bundled_rescore_model(detector)
    base = np.array(model.mean, dtype=np.float64)
    better = base.copy()
    better[FEATURE_NAMES.index("detector_score")] += 0.2
    low, high = model.probabilities(np.vstack([base, better]))
    assert 0.0 <= low < high <= 1.0


def test_duplicates_keep_only_the_more_probable_point() -> None:
    points = np.array([[10.0, 10.0], [10.0, 20.0], [40.0, 10.0], [10.0, 31.0]])
    probabilities = np.array([0.6, 0.9, 0.5, 0.7])
    keep = np.array([True, True, False, True])
    kept = suppress_duplicates(points, probabilities, keep, radius=12.5)
    # 1 wins over 0 (10 apart) and 3 (11 apart); 2 was never kept.
    assert kept.tolist() == [False, True, False, False]
    # Farther than the radius, both stay.
    assert suppress_duplicates(points, probabilities, keep, radius=9.0).tolist() == [
        True,
        True,
        False,
        True,
    ]
    assert suppress_duplicates(np.zeros((0, 2)), np.zeros(0), np.zeros(0, bool), 5.0).size == 0


def test_border_distances_are_to_the_analysed_region() -> None:
    value = np.full((100, 120), 0.8, dtype=np.float32)
    blue = np.zeros_like(value)
    valid = np.zeros(value.shape, dtype=bool)
    valid[20:100, :] = True  # a text bar excluded at the top
    exits = np.array([[30.0, 60.0], [60.0, 60.0]])
    # First shaft runs up into the excluded bar, second stays inside the region.
    angles = np.array([-np.pi / 2, 0.0])
    lengths = np.array([15.0, 10.0])
    features = candidate_features(
        exits, angles, lengths, np.ones(2), np.ones(2), value, blue, valid
    )
    border = features[:, FEATURE_NAMES.index("border_distance")]
    far_end = features[:, FEATURE_NAMES.index("far_end_border_distance")]
    assert border.tolist() == [10.0, 39.0]  # rows 20..99 are analysed
    assert far_end[0] == 0.0  # 30 - 15 = row 15, outside the region: clipped at 0
    assert far_end[1] == 30.0  # 39 px from the last row: clipped at 30
