"""The analysis on real FDU trichoscopy images against their labelled hairs.

The images come from ../shared/data (never copied into the repository). The tolerances are
the honest level the current detector reaches on images of report-split subjects (see
docs/imaging.md), not the project targets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mesoclinic.imaging.analysis import analyze_image
from mesoclinic.imaging.loading import load_image
from mesoclinic.imaging.matching import match_points
from mesoclinic.imaging.profiles import get_profile

# Every 50th image of the report split (bench/imaging_dataset.split_of): subjects never used
# for tuning. On these the analysis found 89 hairs for 92 labelled, 64 matched (0.4.0, CNN;
# 0.3.1: 92 found, 65 matched).
IMAGES = (
    "220105_A095_1",
    "220127_B428_3",
    "220317_A710_1",
    "220727_B666_3",
    "220919_A898_1",
    "230219_A044_3",
    "230219_A094_1",
    "230219_A157_3",
)


def test_counts_and_exit_points_follow_the_labels_on_real_images(
    fdu_data: Path, read_exit_points: Callable[[Path], np.ndarray]
) -> None:
    fdu = fdu_data
    profile = get_profile("fdu-70x")
    found_total = labelled_total = matched = 0
    for name in IMAGES:
        loaded = load_image(fdu / "images" / f"{name}.jpg")
        result = analyze_image(
            loaded.pixels,
            profile.calibration_for(loaded.source_width),
            profile.roi_for(loaded.source_width, loaded.source_height),
            source_scale=loaded.source_scale,
        )
        labelled = read_exit_points(fdu / "annotations" / f"{name}.xml")
        found = np.array([[h.x, h.y] for h in result.hairs]).reshape(-1, 2)
        found_total += len(found)
        labelled_total += len(labelled)
        matched += len(match_points(found, labelled, 15.0))
        assert result.quality.usable, (name, result.quality)
        assert result.density_per_cm2 is not None and result.to_dict()["density_assumed"]
    # Guard rails a little below the measured level, so a regression shows up.
    assert abs(found_total - labelled_total) / labelled_total <= 0.15
    assert matched / labelled_total >= 0.6
    assert matched / found_total >= 0.6


def test_real_image_is_decoded_at_half_size(fdu_data: Path) -> None:
    fdu = fdu_data
    loaded = load_image(fdu / "images" / f"{IMAGES[0]}.jpg")
    assert loaded.pixels.shape == (512, 640, 3) and loaded.source_scale == 2.0
