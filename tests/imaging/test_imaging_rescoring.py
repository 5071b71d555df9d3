"""The rescoring stage: bundled weights load and behave like a probability."""

from __future__ import annotations

import numpy as np
import pytest

from mesoclinic.imaging.analysis import DETECTORS
from mesoclinic.imaging.rescoring import FEATURE_NAMES, bundled_rescore_model


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
