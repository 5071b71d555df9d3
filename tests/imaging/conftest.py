"""Fixtures for the imaging tests: the shared reference data and synthetic trichoscopy images."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
FDU = SHARED_DATA / "trichoscopy-fdu"


def require_shared_data() -> Path:
    """The FDU data folder; skip when absent, but fail on CI where it must be present."""
    if (FDU / "images").is_dir():
        return FDU
    message = f"shared reference data not found at {FDU}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


def labelled_exit_points(xml_path: Path) -> NDArray[np.float64]:
    """(x, y) exit points of the labelled hairs of one FDU annotation file."""
    points = []
    for box in ET.parse(xml_path).getroot().iter("bndbox"):
        points.append([float(box.findtext("xmin", "0")), float(box.findtext("ymin", "0"))])
    return np.array(points, dtype=np.float64).reshape(-1, 2)


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


@pytest.fixture
def synthetic_hairs() -> list[SyntheticHair]:
    """Eight well separated hairs in a common growth direction."""
    spots = [
        (200, 250),
        (520, 220),
        (860, 300),
        (1100, 200),
        (260, 650),
        (600, 600),
        (900, 700),
        (400, 880),
    ]
    return [
        SyntheticHair(x, y, 315.0 + 10 * (i % 3), 150 + 10 * i, 20.0)
        for i, (x, y) in enumerate(spots)
    ]


@pytest.fixture
def make_image() -> Callable[..., NDArray[np.uint8]]:
    """The synthetic image factory, for tests that need their own hairs."""
    return draw_trichoscopy
