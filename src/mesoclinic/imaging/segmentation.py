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
    # np.maximum on channel planes is several times faster than max(axis=2).
    brightest = np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    return np.asarray(brightest, dtype=np.float32)


def skin_background(smooth: FloatImage, params: SegmentationParams) -> FloatImage:
    """Local skin brightness: a grey closing wider than any shaft, on a half-resolution grid
    (the background varies slowly; 4x faster)."""
    height, width = smooth.shape
    half = smooth[: height // 2 * 2, : width // 2 * 2].reshape(height // 2, 2, width // 2, 2)
    size = params.background_size // 2 | 1
    closed = ndi.grey_closing(half.max(axis=(1, 3)), size=(size, size))
    return np.asarray(
        np.pad(
            closed.repeat(2, axis=0).repeat(2, axis=1),
            ((0, height - closed.shape[0] * 2), (0, width - closed.shape[1] * 2)),
            mode="edge",
        ),
        dtype=np.float32,
    )


def relative_darkness(value: FloatImage, background: FloatImage) -> FloatImage:
    """The fraction by which each pixel is darker than its local skin."""
    return np.asarray((background - value) / (background + 10.0), dtype=np.float32)


@dataclass(frozen=True)
class ShaftMaps:
    """The shaft mask, the unsmoothed relative darkness (for width profiles) and the
    brightness they come from (shaft_intensity)."""

    mask: BoolImage
    darkness: FloatImage
    value: FloatImage


def shaft_maps(
    rgb: NDArray[np.generic], params: SegmentationParams, valid: BoolImage | None = None
) -> ShaftMaps:
    """Shaft mask and relative darkness of one working-resolution image."""
    value = shaft_intensity(rgb)
    smooth = np.asarray(ndi.gaussian_filter(value, params.smoothing_sigma), dtype=np.float32)
    background = skin_background(smooth, params)
    darkness = relative_darkness(smooth, background)
    skin_level = float(np.percentile(value[::4, ::4], 75)) if value.size else 0.0
    # Overlapping hairs are wider than the top-hat window: recover them by absolute darkness.
    very_dark = value < params.dark_fraction * skin_level
    strong = (darkness > params.high_threshold) | very_dark
    weak = (darkness > params.low_threshold) | very_dark
    if valid is not None:
        strong &= valid
        weak &= valid
    # A 3x3 opening as min/max filters on uint8: several times faster than binary_opening.
    weak = ndi.maximum_filter(ndi.minimum_filter(weak.view(np.uint8), size=3), size=3) > 0
    labels, count = ndi.label(weak, structure=np.ones((3, 3), dtype=bool))
    is_seeded = np.zeros(count + 1, dtype=bool)
    is_seeded[labels[strong & weak]] = True
    is_seeded[0] = False
    mask = remove_small_regions(fill_holes(is_seeded[labels]), params.min_area)
    return ShaftMaps(mask, relative_darkness(value, background), value)


def fill_holes(mask: BoolImage) -> BoolImage:
    """Fill background regions that do not touch the image border."""
    background, count = ndi.label(~mask)
    border = np.unique(
        np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]])
    )
    is_hole = np.ones(count + 1, dtype=bool)
    is_hole[border] = False
    is_hole[0] = False
    return np.asarray(mask | is_hole[background], dtype=bool)


def remove_small_regions(mask: BoolImage, min_area: int) -> BoolImage:
    """Drop 8-connected regions smaller than min_area pixels."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return mask
    areas = np.bincount(labels.ravel())
    keep = areas >= min_area
    keep[0] = False
    return np.asarray(keep[labels], dtype=bool)
