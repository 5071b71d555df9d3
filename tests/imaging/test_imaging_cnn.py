"""The experimental convolutional exit-point detector (optional: needs onnxruntime)."""

from __future__ import annotations

import numpy as np
import pytest

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image
from mesoclinic.imaging.cnn_detector import heat_peaks


def test_heat_peaks_are_local_maxima_above_the_threshold_with_sub_pixel_centres() -> None:
    heat = np.zeros((40, 50), dtype=np.float32)
    heat[10, 10] = 0.9
    heat[10, 11] = 0.9  # equal neighbour pulls the centre half a pixel right
    heat[30, 40] = 0.8
    heat[30, 42] = 0.5  # within the peak distance of a stronger peak: suppressed
    heat[5, 45] = 0.3  # below the threshold
    peaks = heat_peaks(heat, 0.4)
    assert peaks.shape == (2, 2)
    by_row = peaks[np.argsort(peaks[:, 0])]
    assert by_row[0] == pytest.approx([10.0, 10.5], abs=0.01)
    assert by_row[1][0] == pytest.approx(30.0, abs=0.01)
    assert by_row[1][1] == pytest.approx(40.0, abs=0.01)  # 3x3 centroid: 42 is outside
    assert heat_peaks(np.zeros((8, 8), dtype=np.float32), 0.4).shape == (0, 2)


def test_cnn_detector_runs_end_to_end_on_odd_sized_images() -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(0)
    pixels = np.clip(rng.normal(170, 8, size=(301, 333, 3)), 0, 255).astype(np.uint8)
    pixels[100:104, 60:200] = 40  # one dark shaft
    result = analyze_image(pixels, params=AnalysisParams(detector="cnn"))
    assert result.hair_count <= 3
    for hair in result.hairs:
        assert 0 <= hair.x < 333 and 0 <= hair.y < 301
        assert 0.0 <= hair.score <= 1.0
