"""The experimental convolutional exit-point detector (optional: needs onnxruntime)."""

from __future__ import annotations

import numpy as np
import pytest

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image
from mesoclinic.imaging.cnn_detector import heat_peaks, shoulder_peaks


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


def test_shoulder_peaks_find_a_second_exit_in_the_flank_of_a_stronger_one() -> None:
    rows, cols = np.indices((40, 40), dtype=np.float64)

    def bump(row: float, col: float, height: float) -> np.ndarray:
        return height * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * 1.5**2))

    # A strong exit at (20, 20) and a weaker one 3.5 grid px away: one maximum only.
    heat = (bump(20, 20, 0.9) + bump(20, 23.5, 0.4)).astype(np.float32)
    peaks = heat_peaks(heat, 0.12)
    assert len(peaks) == 1
    extra, scores = shoulder_peaks(heat, peaks, 0.12, sigma=1.5, min_gap=3.0)
    assert extra.shape == (1, 2)
    assert extra[0] == pytest.approx([20.0, 23.5], abs=0.7)
    assert 0.12 < float(scores[0]) < 0.45  # scored by what is left, not the blob's height
    # A lone Gaussian leaves nothing behind.
    single = bump(20, 20, 0.9).astype(np.float32)
    lone = shoulder_peaks(single, heat_peaks(single, 0.12), 0.12, sigma=1.5, min_gap=3.0)
    assert lone[0].shape == (0, 2)
