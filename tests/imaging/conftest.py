"""Fixtures for the imaging tests: the shared reference data and synthetic trichoscopy images."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from mesoclinic.imaging.synthetic import SyntheticHair, draw_trichoscopy

REPO_ROOT = Path(__file__).resolve().parents[2]
# MESOCLINIC_SHARED_DATA points elsewhere (a git worktree whose parent holds no shared/).
SHARED_DATA = Path(os.environ.get("MESOCLINIC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
FDU = SHARED_DATA / "trichoscopy-fdu"


def _require_shared_data() -> Path:
    """The FDU data folder; skip when absent, but fail on CI where it must be present."""
    if (FDU / "images").is_dir():
        return FDU
    message = f"shared reference data not found at {FDU}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


def _labelled_exit_points(xml_path: Path) -> NDArray[np.float64]:
    """(x, y) exit points of the labelled hairs of one FDU annotation file."""
    points = []
    for box in ET.parse(xml_path).getroot().iter("bndbox"):
        points.append([float(box.findtext("xmin", "0")), float(box.findtext("ymin", "0"))])
    return np.array(points, dtype=np.float64).reshape(-1, 2)


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


@pytest.fixture
def fdu_data() -> Path:
    """The FDU folder (skips without it; fails on CI, where it must be present)."""
    return _require_shared_data()


@pytest.fixture
def read_exit_points() -> Callable[[Path], NDArray[np.float64]]:
    """Reader of the labelled exit points of one FDU annotation file."""
    return _labelled_exit_points


@pytest.fixture
def repo_root() -> Path:
    """The repository root (the benchmark script lives under it)."""
    return REPO_ROOT
