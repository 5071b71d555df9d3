"""Hair-shaft segmentation: dark, thin, elongated structures on lighter skin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

FloatImage = NDArray[np.float32]
BoolImage = NDArray[np.bool_]


@dataclass(frozen=True)
class SegmentationParams:
    """Thresholds of the shaft segmentation, in working-resolution pixels (about 640 px wide).

    Tuned on the tuning subjects of the FDU set only (see docs/imaging.md).
    """

    smoothing_sigma: float = 1.0
    background_size: int = 25
    low_threshold: float = 0.15
    high_threshold: float = 0.35
    dark_fraction: float = 0.45
    min_area: int = 120


def shaft_intensity(rgb: NDArray[np.generic]) -> FloatImage:
    """Per-pixel brightness where hair is dark: the max over colour channels.

    The max keeps blue-grey follicle halos bright (their blue channel is high) while black
    shafts stay dark in every channel.
    """
    if rgb.ndim == 2:
        return np.asarray(rgb, dtype=np.float32)
    return np.asarray(rgb[..., :3].max(axis=2), dtype=np.float32)


def darkness_map(value: FloatImage, params: SegmentationParams) -> FloatImage:
    """Relative black top-hat: the fraction by which a pixel is darker than its local skin."""
    smooth = ndi.gaussian_filter(value, params.smoothing_sigma)
    size = params.background_size
    background = ndi.grey_closing(smooth, size=(size, size))
    return np.asarray((background - smooth) / (background + 10.0), dtype=np.float32)


def segment_shafts(
    rgb: NDArray[np.generic], params: SegmentationParams, valid: BoolImage | None = None
) -> BoolImage:
    """Boolean mask of hair shafts (working resolution)."""
    value = shaft_intensity(rgb)
    darkness = darkness_map(value, params)
    skin_level = float(np.percentile(value, 75)) if value.size else 0.0
    # Overlapping hairs are wider than the top-hat window: recover them by absolute darkness.
    very_dark = value < params.dark_fraction * skin_level
    strong = (darkness > params.high_threshold) | very_dark
    weak = (darkness > params.low_threshold) | very_dark
    if valid is not None:
        strong &= valid
        weak &= valid
    weak = ndi.binary_opening(weak, iterations=1)
    labels, _ = ndi.label(weak, structure=np.ones((3, 3), dtype=bool))
    seeded = np.unique(labels[strong & weak])
    mask = np.isin(labels, seeded[seeded > 0])
    mask = ndi.binary_fill_holes(mask)
    return remove_small_regions(np.asarray(mask, dtype=bool), params.min_area)


def remove_small_regions(mask: BoolImage, min_area: int) -> BoolImage:
    """Drop 8-connected regions smaller than min_area pixels."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return mask
    areas = np.bincount(labels.ravel())
    keep = areas >= min_area
    keep[0] = False
    return np.asarray(keep[labels], dtype=bool)
