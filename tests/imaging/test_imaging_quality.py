"""Quality flags: blurred, over-exposed, too little skin."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from mesoclinic.imaging.analysis import analyze_image
from mesoclinic.imaging.synthetic import SyntheticHair

MakeImage = Callable[..., NDArray[np.uint8]]


def test_sharp_image_raises_no_flag(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    quality = analyze_image(make_image(synthetic_hairs)).quality
    assert quality.usable, quality


def test_blurred_image_is_flagged(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    image = Image.fromarray(make_image(synthetic_hairs)).filter(ImageFilter.GaussianBlur(12))
    quality = analyze_image(np.asarray(image)).quality
    assert "blurred" in quality.flags and not quality.usable


def test_overexposed_image_is_flagged(
    synthetic_hairs: list[SyntheticHair], make_image: MakeImage
) -> None:
    image = make_image(synthetic_hairs).copy()
    image[:600] = 255
    assert "overexposed" in analyze_image(image).quality.flags


def test_image_with_too_little_skin_is_flagged() -> None:
    dark = np.full((1024, 1280, 3), 20, dtype=np.uint8)
    assert "too_little_skin" in analyze_image(dark).quality.flags
