"""analyze_image on synthetic trichoscopy images with known hairs."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image
from mesoclinic.imaging.results import (
    ALGORITHM_VERSION,
    Calibration,
    Hair,
    Quality,
    Roi,
    TrichoscopyResult,
)
from mesoclinic.imaging.synthetic import SyntheticHair

MakeImage = Callable[..., NDArray[np.uint8]]


def _match(found: NDArray[np.float64], drawn: NDArray[np.float64]) -> list[tuple[int, int]]:
    distance = np.linalg.norm(found[:, None, :] - drawn[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(distance)
    return [(r, c) for r, c in zip(rows, cols, strict=True) if distance[r, c] <= 15]


def test_synthetic_hairs_are_found_at_their_exit_points(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    result = analyze_image(make_image(synthetic_hairs))
    found = np.array([[h.x, h.y] for h in result.hairs])
    drawn = np.array([[h.x, h.y] for h in synthetic_hairs])
    assert result.hair_count == len(synthetic_hairs)
    assert len(_match(found, drawn)) == len(synthetic_hairs)


def test_direction_length_and_width_follow_the_drawn_shaft(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    result = analyze_image(make_image(synthetic_hairs))
    found = np.array([[h.x, h.y] for h in result.hairs])
    drawn = np.array([[h.x, h.y] for h in synthetic_hairs])
    for r, c in _match(found, drawn):
        hair, truth = result.hairs[r], synthetic_hairs[c]
        turn = (hair.angle_deg - truth.angle_deg + 180) % 360 - 180
        assert abs(turn) <= 12
        assert hair.length_px == pytest.approx(truth.length, rel=0.25)
        # Full width at half maximum of the darkness profile: the drawn width, blur and all.
        assert hair.width_px == pytest.approx(truth.width, rel=0.15)


def test_density_is_null_without_calibration(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    result = analyze_image(make_image(synthetic_hairs))
    payload = result.to_dict("x.jpg")
    assert payload["density_per_cm2"] is None
    assert payload["terminal_count"] is None and payload["mean_diameter_um"] is None


def test_density_is_hairs_per_analysed_cm2_with_calibration(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    px_per_mm = 280.0
    result = analyze_image(make_image(synthetic_hairs), Calibration(px_per_mm))
    area_cm2 = 1280 * 1024 / px_per_mm**2 / 100
    assert result.density_per_cm2 == pytest.approx(result.hair_count / area_cm2, rel=0.01)
    assert result.to_dict()["density_assumed"] is False


def test_terminal_and_vellus_split_at_the_diameter_threshold(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    image = make_image(synthetic_hairs)
    # 20 px shafts at 280 px/mm are 71 um: terminal at 40 um, vellus at 200 um.
    default = analyze_image(image, Calibration(280.0))
    strict = analyze_image(
        image, Calibration(280.0), params=AnalysisParams(terminal_threshold_um=200.0)
    )
    assert default.terminal_count == default.hair_count and default.vellus_count == 0
    assert strict.vellus_count == strict.hair_count and strict.terminal_count == 0
    assert default.mean_diameter_um == pytest.approx(20 / 280 * 1000, rel=0.12)
    assert default.cumulative_thickness_mm_per_cm2 == pytest.approx(
        default.density_per_cm2 * default.mean_diameter_um / 1000  # type: ignore[operator]
    )


def test_a_hair_without_a_measurable_width_is_neither_terminal_nor_vellus() -> None:
    measured = Hair(10, 10, 0, 100, 20.0, 0.9, diameter_um=71.4, terminal=True)
    faint = Hair(300, 300, 0, 40, None, 0.6)
    result = TrichoscopyResult(
        hairs=(measured, faint),
        follicular_units=(),
        empty_openings=(),
        quality=Quality(sharpness=0.03, overexposed_fraction=0.0, skin_fraction=0.9),
        analysed_area_mm2=9.8,
        calibration=Calibration(280.0),
    )
    assert (result.hair_count, result.terminal_count, result.vellus_count) == (2, 1, 0)
    assert result.mean_diameter_um == pytest.approx(71.4)
    assert result.to_dict()["hairs"][1]["width_px"] is None


def test_region_of_interest_excludes_hairs_outside_it(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    image = make_image(synthetic_hairs)
    top_half = analyze_image(image, roi=Roi(0, 0, 1280, 480))
    assert top_half.hair_count == sum(1 for h in synthetic_hairs if h.y < 480)
    assert all(hair.y < 480 for hair in top_half.hairs)


def test_blank_skin_has_no_hairs(make_image: MakeImage) -> None:
    result = analyze_image(make_image([]))
    assert result.hair_count == 0
    assert result.unit_histogram() == {"1": 0, "2": 0, "3+": 0}


def test_hairs_sharing_an_opening_form_one_follicular_unit(make_image: MakeImage) -> None:
    pair = [SyntheticHair(600, 400, 300, 220, 18), SyntheticHair(600, 400, 340, 220, 18)]
    single = [SyntheticHair(250, 750, 320, 200, 18)]
    result = analyze_image(make_image(pair + single))
    assert result.unit_histogram()["1"] >= 1
    assert sum(unit.hair_count for unit in result.follicular_units) == result.hair_count


def test_every_result_records_the_algorithm_version(make_image: MakeImage) -> None:
    result = analyze_image(make_image([SyntheticHair(400, 400, 300, 200, 20)]))
    assert result.algorithm_version == ALGORITHM_VERSION
    assert result.to_dict()["algorithm_version"] == ALGORITHM_VERSION
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.hairs[0].x = 0.0  # type: ignore[misc]


def test_half_size_input_reports_source_coordinates(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    image = make_image(synthetic_hairs)
    half = image[::2, ::2]
    result = analyze_image(half, source_scale=2.0)
    found = np.array([[h.x, h.y] for h in result.hairs])
    drawn = np.array([[h.x, h.y] for h in synthetic_hairs])
    assert len(_match(found, drawn)) >= len(synthetic_hairs) - 1


def test_float_input_gives_the_same_result_as_uint8(make_image: MakeImage) -> None:
    image = make_image([SyntheticHair(500, 500, 30, 220, 20)])
    assert analyze_image(image / 255.0).hair_count == analyze_image(image).hair_count == 1


def test_greyscale_input_is_accepted(make_image: MakeImage) -> None:
    # The detector was trained on colour (it uses the blue of follicle openings): greyscale
    # runs but may find fewer hairs, so only the shape of the result is checked here.
    grey = make_image([SyntheticHair(500, 500, 30, 220, 20)]).mean(axis=2).astype(np.uint8)
    result = analyze_image(grey)
    assert result.hair_count <= 1 and result.algorithm_version


def test_too_small_input_is_refused() -> None:
    with pytest.raises(ValueError):
        analyze_image(np.zeros((8, 8, 3), dtype=np.uint8))


@pytest.mark.parametrize("angle", [0.0, 30.0, 330.0])
def test_angle_convention_is_counter_clockwise_with_y_up(
    make_image: MakeImage, angle: float
) -> None:
    hair = SyntheticHair(640, 512, angle, 220, 20)
    result = analyze_image(make_image([hair]))
    assert result.hair_count == 1
    turn = (result.hairs[0].angle_deg - angle + 180) % 360 - 180
    assert abs(turn) < 12, result.hairs[0].angle_deg
    assert math.isfinite(result.hairs[0].length_px)


@pytest.mark.parametrize(
    "angle",
    [
        0.0,
        45.0,
        90.0,
        135.0,
        180.0,
        pytest.param(
            240.0,
            marks=pytest.mark.xfail(
                reason="known failure (docs/imaging.md): on this synthetic down-left hair "
                "the detector finds nothing",
                strict=False,
            ),
        ),
        300.0,
    ],
)
def test_exit_is_found_whatever_the_hair_direction(make_image: MakeImage, angle: float) -> None:
    result = analyze_image(make_image([SyntheticHair(640, 512, angle, 220, 20)]))
    assert result.hair_count == 1
    assert abs(result.hairs[0].x - 640) <= 15 and abs(result.hairs[0].y - 512) <= 15


def test_rescoring_stage_can_be_switched_off(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    image = make_image(synthetic_hairs)
    plain = analyze_image(image, params=AnalysisParams(rescore=False))
    assert plain.hair_count == len(synthetic_hairs)
    assert all(0.0 <= hair.score <= 1.0 for hair in plain.hairs)
