"""The rescoring stage: bundled weights load and behave like a probability."""

from __future__ import annotations

import numpy as np

from mesoclinic.imaging.rescoring import FEATURE_NAMES, bundled_rescore_model


def test_bundled_rescore_model_matches_the_feature_list() -> None:
    model = bundled_rescore_model()
    assert len(model.weights) == len(model.mean) == len(model.scale) == len(FEATURE_NAMES)
    assert 0.0 < model.threshold < 1.0


def test_higher_detector_score_raises_the_probability() -> None:
    model = bundled_rescore_model()
    base = np.array(model.mean, dtype=np.float64)
    better = base.copy()
    better[FEATURE_NAMES.index("detector_score")] += 0.2
    low, high = model.probabilities(np.vstack([base, better]))
    assert 0.0 <= low < high <= 1.0
