"""Synthetic 70x trichoscopy images with known hairs, for tests and demonstrations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter


@dataclass(frozen=True)
class SyntheticHair:
    """A drawn hair: exit point, direction (degrees, counter-clockwise, y up), length, width."""

    x: float
    y: float
    angle_deg: float
    length: float
    width: float


def draw_trichoscopy(
    hairs: list[SyntheticHair], size: tuple[int, int] = (1280, 1024), seed: int = 0
) -> NDArray[np.uint8]:
    """A 70x-like image: textured beige skin, blue-grey follicle halos, black cut shafts."""
    rng = np.random.default_rng(seed)
    width, height = size
    skin = np.empty((height, width, 3), dtype=np.float32)
    skin[...] = (145, 148, 168)  # median skin colour of the FDU images
    skin += rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(skin, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(2)
    )
    draw = ImageDraw.Draw(image)
    for hair in hairs:
        # The part of the hair still under the skin shows as a blue-grey streak behind the exit.
        angle = math.radians(hair.angle_deg)
        behind = (hair.x - 70 * math.cos(angle), hair.y + 70 * math.sin(angle))
        draw.line([(hair.x, hair.y), behind], fill=(95, 105, 140), width=int(hair.width * 1.4))
        radius = hair.width * 1.2
        draw.ellipse(
            [hair.x - radius, hair.y - radius, hair.x + radius, hair.y + radius],
            fill=(100, 110, 145),
        )
    image = image.filter(ImageFilter.GaussianBlur(5))
    draw = ImageDraw.Draw(image)
    for hair in hairs:
        angle = math.radians(hair.angle_deg)
        end = (hair.x + hair.length * math.cos(angle), hair.y - hair.length * math.sin(angle))
        draw.line([(hair.x, hair.y), end], fill=(28, 30, 38), width=int(hair.width))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.2)), dtype=np.uint8)
