"""Per-image overlay detection: text bars of any height, the bottom grey bar, the "1.0 mm"
marker and the red measurement circle, on synthetic images and on real FDU images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from mesoclinic.imaging.analysis import AnalysisParams, analysed_region, analyze_image
from mesoclinic.imaging.loading import load_image
from mesoclinic.imaging.matching import match_points
from mesoclinic.imaging.overlays import find_overlays
from mesoclinic.imaging.profiles import get_profile
from mesoclinic.imaging.results import Roi
from mesoclinic.imaging.synthetic import SyntheticHair

WORK = (640, 512)


def _skin(make_image: Callable[..., NDArray[np.uint8]]) -> Image.Image:
    """A synthetic working-size image (640x512) of skin with two hairs."""
    hairs = [SyntheticHair(300, 500, 300.0, 200, 20.0), SyntheticHair(900, 600, 320.0, 180, 18.0)]
    pixels = make_image(hairs, size=(1280, 1024))
    return Image.fromarray(pixels).resize(WORK, Image.Resampling.BOX)


def _text_bar(image: Image.Image, rows: int) -> None:
    """The device's top bar: grey boxes with white text across most of the width."""
    draw = ImageDraw.Draw(image)
    x = 0
    for width in (40, 120, 150, 90, 110, 100):
        draw.rectangle([x, 0, x + width - 3, rows - 1], fill=(66, 66, 66))
        for letter in range(x + 4, x + width - 8, 7):
            draw.rectangle([letter, rows // 3, letter + 3, 2 * rows // 3], fill=(235, 235, 235))
        x += width


def test_a_clean_image_has_no_overlays(make_image: Callable[..., NDArray[np.uint8]]) -> None:
    found = find_overlays(np.asarray(_skin(make_image)))
    assert found.sure and found.kinds == ()
    assert found.top == 0 and found.bottom == WORK[1] and not found.mask.any()


def test_top_text_bars_of_any_height_are_cut(make_image: Callable[..., NDArray[np.uint8]]) -> None:
    for rows in (16, 22):  # 32 and 44 source rows
        image = _skin(make_image)
        _text_bar(image, rows)
        found = find_overlays(np.asarray(image))
        assert found.sure and "top_bar" in found.kinds
        assert rows <= found.top <= rows + 4, (rows, found.top)
        assert found.valid()[found.top :].any() and not found.valid()[:rows].any()


def test_bottom_bar_marker_and_circle_are_found(
    make_image: Callable[..., NDArray[np.uint8]],
) -> None:
    image = _skin(make_image)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 496, 639, 511], fill=(220, 220, 220))  # bottom grey bar
    draw.line([(18, 280), (18, 462)], fill=(48, 46, 60), width=1)  # scale marker, vertical arm
    draw.line([(18, 462), (200, 462)], fill=(48, 46, 60), width=1)  # and horizontal arm
    draw.rectangle([204, 450, 266, 467], fill=(64, 64, 64))  # its "1.0 mm" label box
    for letter in range(210, 260, 8):
        draw.rectangle([letter, 454, letter + 3, 463], fill=(240, 240, 240))
    draw.arc([300, 60, 700, 460], 90, 270, fill=(230, 20, 30), width=2)  # measurement circle
    found = find_overlays(np.asarray(image))
    assert found.sure
    assert set(found.kinds) == {"bottom_bar", "line", "text", "circle"}
    assert 490 <= found.bottom <= 496
    assert found.mask[300, 18] and found.mask[462, 100] and found.mask[458, 235]
    assert found.mask[260, 300]  # on the circle (its leftmost point)
    assert not found.mask[200, 400] and not found.mask[100, 100]  # skin stays in the field


def test_a_half_bar_is_unsure_and_the_profile_cut_is_kept(
    make_image: Callable[..., NDArray[np.uint8]],
) -> None:
    image = _skin(make_image)
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, 20):  # grey boxes over a third of each top row: unclear
        draw.rectangle([x, 0, x + 6, 15], fill=(66, 66, 66))
    pixels = np.asarray(image)
    assert not find_overlays(pixels).sure
    cut = Roi(0, 32, 1280, 1024, detect_overlays=True)
    valid = analysed_region(pixels, cut, 2.0, AnalysisParams())
    assert not valid[:16].any() and valid[16:].all()
    # Without the profile's flag (an explicit --roi) the rectangle is taken as given.
    plain = analysed_region(pixels, Roi(0, 32, 1280, 1024), 2.0, AnalysisParams())
    assert not plain[:16].any() and plain[16:].all()


def test_real_fdu_overlays(fdu_data: Path) -> None:
    images = fdu_data / "images"
    expected = {
        "220106_A210_1": {"top_bar"},  # a 44-row text bar
        "220106_A210_3": {"bottom_bar", "line", "text"},  # grey bar, "1.0 mm" marker
        "220127_B436_4": {"circle"},  # red measurement circle
        "220105_A095_2": set(),  # nothing burnt in
    }
    for name, kinds in expected.items():
        found = find_overlays(load_image(images / f"{name}.jpg").pixels)
        assert found.sure, name
        assert set(found.kinds) == kinds, (name, found.kinds)
    bar = find_overlays(load_image(images / "220106_A210_1.jpg").pixels)
    assert 22 <= bar.top <= 26  # 44 source rows of bar (the fixed cut took 32)


def test_hairs_in_the_top_rows_are_found_where_there_is_no_bar(
    fdu_data: Path, read_exit_points: Callable[[Path], NDArray[np.float64]]
) -> None:
    """220106_A226_2 has no text bar and five labelled exits in its top 12 rows, which the
    fixed 32-row cut hid from the detector; with overlay detection some are found."""
    profile = get_profile("fdu-70x")
    loaded = load_image(fdu_data / "images" / "220106_A226_2.jpg")
    labelled = read_exit_points(fdu_data / "annotations" / "220106_A226_2.xml")
    top = labelled[labelled[:, 1] < 28]
    assert len(top) == 5
    roi = profile.roi_for(loaded.source_width, loaded.source_height)
    assert roi.detect_overlays

    def found_at_top(params: AnalysisParams) -> int:
        result = analyze_image(
            loaded.pixels, None, roi, source_scale=loaded.source_scale, params=params
        )
        points = np.array([[h.x, h.y] for h in result.hairs]).reshape(-1, 2)
        return len(match_points(points, top, 15.0))

    assert found_at_top(AnalysisParams(detect_overlays=False)) == 0
    assert found_at_top(AnalysisParams()) >= 2  # 2 of 5: border hairs are often dropped
