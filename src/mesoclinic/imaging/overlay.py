"""PNG overlays showing what the analysis detected, for a clinician to check."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from mesoclinic.imaging.results import Roi, TrichoscopyResult

TERMINAL_COLOUR = (0, 230, 0)
VELLUS_COLOUR = (255, 200, 0)
UNKNOWN_COLOUR = (0, 200, 255)
EXIT_COLOUR = (255, 40, 40)
OPENING_COLOUR = (255, 0, 255)


def render_overlay(
    pixels: NDArray[np.uint8], result: TrichoscopyResult, source_scale: float, roi: Roi | None
) -> Image.Image:
    """Draw each hair (exit point and shaft line), empty openings and the ROI on the image.

    A profile's fixed cut (roi.detect_overlays) is not drawn: the analysis replaced it by the
    image's own overlays, unless their detection was unsure."""
    image = Image.fromarray(pixels).convert("RGB")
    draw = ImageDraw.Draw(image)
    to_pixels = 1.0 / source_scale
    if roi is not None and not roi.detect_overlays:
        draw.rectangle(
            [
                roi.x0 * to_pixels,
                roi.y0 * to_pixels,
                roi.x1 * to_pixels - 1,
                roi.y1 * to_pixels - 1,
            ],
            outline=(255, 255, 255),
        )
    for hair in result.hairs:
        colour = (
            UNKNOWN_COLOUR
            if hair.terminal is None
            else TERMINAL_COLOUR
            if hair.terminal
            else VELLUS_COLOUR
        )
        x, y = hair.x * to_pixels, hair.y * to_pixels
        angle = math.radians(hair.angle_deg)
        length = hair.length_px * to_pixels
        end = (x + length * math.cos(angle), y - length * math.sin(angle))
        draw.line([(x, y), end], fill=colour, width=2)
        radius = 4
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=EXIT_COLOUR, width=2)
    for x, y in result.empty_openings:
        x, y = x * to_pixels, y * to_pixels
        draw.rectangle([x - 4, y - 4, x + 4, y + 4], outline=OPENING_COLOUR, width=1)
    draw.text((4, image.height - 14), f"hairs: {result.hair_count}", fill=(255, 255, 255))
    return image


def save_overlay(
    directory: Path,
    image_path: Path,
    pixels: NDArray[np.uint8],
    result: TrichoscopyResult,
    source_scale: float,
    roi: Roi | None,
) -> Path:
    """Write <directory>/<image stem>.overlay.png and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{image_path.stem}.overlay.png"
    render_overlay(pixels, result, source_scale, roi).save(target)
    return target
