"""Exit-point detector: a tiny NumPy MLP scoring fine-grid pixels, then peak picking.

Weights are trained by bench/imaging_train.py on the tuning subjects of the FDU set only and
stored next to this module (exit_model.npz, well under 1 MB). No download at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import IO

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from mesoclinic.imaging.features import FeaturePyramid

MODEL_FILE = "exit_model.npz"
CANDIDATE_RADIUS = 3


@dataclass(frozen=True)
class ExitModel:
    """Standardisation and two-layer perceptron weights."""

    mean: NDArray[np.float32]
    scale: NDArray[np.float32]
    w1: NDArray[np.float32]
    b1: NDArray[np.float32]
    w2: NDArray[np.float32]
    b2: NDArray[np.float32]
    candidate_level: float
    peak_threshold: float
    peak_distance: int

    def scores(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        """Probability that each feature row is a hair exit point."""
        w1, b1 = self._folded
        hidden = np.maximum(features @ w1 + b1, 0.0)
        logits = (hidden @ self.w2 + self.b2).ravel()
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))), dtype=np.float32)

    @cached_property
    def _folded(self) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """First layer with the input standardisation folded in (one matmul, no copies)."""
        w1 = (self.w1 / self.scale[:, None]).astype(np.float32)
        b1 = (self.b1 - (self.mean / self.scale) @ self.w1).astype(np.float32)
        return w1, b1


COARSE_STRIDE = 2
REFINE_LEVEL = 0.5


def save_model(path: str, model: ExitModel) -> None:
    """Write the model as a compressed .npz (used by the training script)."""
    np.savez_compressed(
        path,
        mean=model.mean,
        scale=model.scale,
        w1=model.w1,
        b1=model.b1,
        w2=model.w2,
        b2=model.b2,
        settings=np.array(
            [model.candidate_level, model.peak_threshold, model.peak_distance], dtype=np.float64
        ),
    )


def load_model_file(source: str | IO[bytes]) -> ExitModel:
    """Read a model written by save_model from a path or file object."""
    with np.load(source) as data:
        settings = data["settings"]
        return ExitModel(
            mean=data["mean"].astype(np.float32),
            scale=data["scale"].astype(np.float32),
            w1=data["w1"].astype(np.float32),
            b1=data["b1"].astype(np.float32),
            w2=data["w2"].astype(np.float32),
            b2=data["b2"].astype(np.float32),
            candidate_level=float(settings[0]),
            peak_threshold=float(settings[1]),
            peak_distance=int(settings[2]),
        )


@lru_cache(maxsize=1)
def bundled_model() -> ExitModel:
    """The exit-point model shipped with the package."""
    with resources.files("mesoclinic.imaging").joinpath(MODEL_FILE).open("rb") as handle:
        return load_model_file(handle)


def candidate_pixels(
    value: NDArray[np.float32], level: float, valid: NDArray[np.bool_]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Fine-grid pixels with something dark nearby: the only places worth scoring."""
    size = 2 * CANDIDATE_RADIUS + 1
    near_dark = ndi.minimum_filter(value, size=size) < level
    rows, cols = np.nonzero(near_dark & valid)
    return rows.astype(np.intp), cols.astype(np.intp)


def score_map(
    pyramid: FeaturePyramid, value: NDArray[np.float32], valid: NDArray[np.bool_], model: ExitModel
) -> NDArray[np.float32]:
    """Exit-point probability on the fine grid (zero where not scored).

    Coarse to fine for speed: score every other candidate pixel, then fill in the
    neighbourhood of those that look promising.
    """
    rows, cols = candidate_pixels(value, model.candidate_level, valid)
    heat = np.zeros(pyramid.fine_shape, dtype=np.float32)
    on_grid = (rows % COARSE_STRIDE == 0) & (cols % COARSE_STRIDE == 0)
    if not on_grid.any():
        return heat
    heat[rows[on_grid], cols[on_grid]] = model.scores(pyramid.patches(rows[on_grid], cols[on_grid]))
    promising = np.zeros(pyramid.fine_shape, dtype=bool)
    promising[rows[on_grid], cols[on_grid]] = heat[rows[on_grid], cols[on_grid]] > REFINE_LEVEL
    promising = ndi.binary_dilation(promising, structure=np.ones((3, 3), dtype=bool))
    refine = promising[rows, cols] & ~on_grid
    if refine.any():
        heat[rows[refine], cols[refine]] = model.scores(pyramid.patches(rows[refine], cols[refine]))
    return heat


def find_peaks(heat: NDArray[np.float32], threshold: float, distance: int) -> NDArray[np.float64]:
    """Sub-pixel local maxima (row, col) of a smoothed heat map above threshold."""
    smooth = ndi.gaussian_filter(heat, 0.7)
    size = 2 * distance + 1
    peaks = (smooth == ndi.maximum_filter(smooth, size=size)) & (smooth > threshold)
    labels, count = ndi.label(peaks)
    if count == 0:
        return np.zeros((0, 2))
    centres = ndi.center_of_mass(smooth, labels, range(1, count + 1))
    return np.asarray(centres, dtype=np.float64).reshape(-1, 2)
