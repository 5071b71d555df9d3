"""Multi-scale patch features around candidate pixels, shared by training and inference.

The exit-point detector looks at two scales of a skin-normalised image: a fine grid
(1/4 of a 1280 px wide 70x image) and a coarse grid (1/8) for the context of the shaft.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

# (downsampling factor from the fine grid, patch radius) per scale: 52, 88 and 144 source px
SCALES = ((1, 6), (2, 5), (4, 4))
CHANNELS = 2
RAY_DIRECTIONS = 16
RAY_RANGES = ((1, 4), (5, 10), (11, 18))
RAY_PAD = RAY_RANGES[-1][1]
FEATURE_COUNT = CHANNELS * sum((2 * radius + 1) ** 2 for _, radius in SCALES) + (
    RAY_DIRECTIONS * len(RAY_RANGES)
)

Float32Array = NDArray[np.float32]


def block_mean(image: NDArray[np.float32], factor: int) -> NDArray[np.float32]:
    """Downsample by averaging factor x factor blocks (edges cropped)."""
    if factor == 1:
        return image
    height = image.shape[0] // factor * factor
    width = image.shape[1] // factor * factor
    # Summing strided views is much faster than reshape(...).mean over interleaved axes.
    total = np.zeros((height // factor, width // factor) + image.shape[2:], dtype=np.float32)
    for row in range(factor):
        for col in range(factor):
            total += image[row:height:factor, col:width:factor]
    return np.asarray(total / np.float32(factor * factor), dtype=np.float32)


def normalised_channels(rgb: NDArray[np.generic]) -> Float32Array:
    """Brightness (max channel) and blueness, both divided by the skin brightness level."""
    pixels = np.asarray(rgb, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    value = np.maximum(np.maximum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])
    skin = max(float(np.percentile(value[::4, ::4], 75)), 1.0)
    blueness = pixels[..., 2] - pixels[..., 0]
    return np.stack([value / skin, blueness / skin], axis=2).astype(np.float32)


class FeaturePyramid:
    """Channel grids of one image at each scale, ready for patch gathering."""

    def __init__(self, fine: Float32Array) -> None:
        self.fine_shape = fine.shape[:2]
        self._windows = []
        for factor, radius in SCALES:
            grid = block_mean(fine, factor)
            pad = ((radius, radius + factor), (radius, radius + factor), (0, 0))
            padded = np.pad(grid, pad, mode="edge")
            size = 2 * radius + 1
            self._windows.append(sliding_window_view(padded, (size, size), axis=(0, 1)))
        darkness = np.clip(1.0 - fine[..., 0], 0.0, 1.0)
        self._darkness = np.pad(darkness, RAY_PAD, mode="edge")

    def patches(self, rows: NDArray[np.intp], cols: NDArray[np.intp]) -> Float32Array:
        """Feature vectors (n, FEATURE_COUNT) centred on fine-grid pixels (rows, cols)."""
        parts = [
            windows[rows // factor, cols // factor].reshape(len(rows), -1)
            for windows, (factor, _) in zip(self._windows, SCALES, strict=True)
        ]
        parts.append(ray_darkness(self._darkness, rows, cols))
        return np.concatenate(parts, axis=1).astype(np.float32)


def _ray_offsets() -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Row and column offsets of every ray sample and the feature each sample feeds."""
    rows, cols, slots = [], [], []
    for band, (start, stop) in enumerate(RAY_RANGES):
        for index in range(RAY_DIRECTIONS):
            angle = 2 * np.pi * index / RAY_DIRECTIONS
            for step in range(start, stop + 1, 1 if stop <= 4 else 2):
                rows.append(int(round(step * np.sin(angle))))
                cols.append(int(round(step * np.cos(angle))))
                slots.append(band * RAY_DIRECTIONS + index)
    return np.array(rows), np.array(cols), np.array(slots)


RAY_ROWS, RAY_COLS, RAY_SLOTS = _ray_offsets()
RAY_SAMPLES = np.bincount(RAY_SLOTS).astype(np.float32)
RAY_STARTS = np.concatenate([[0], np.cumsum(np.bincount(RAY_SLOTS))[:-1]]).astype(np.intp)


def ray_darkness(
    padded_darkness: Float32Array, rows: NDArray[np.intp], cols: NDArray[np.intp]
) -> Float32Array:
    """Mean darkness along rays in RAY_DIRECTIONS directions at RAY_RANGES distances.

    A hair exit (or tip) is dark in one direction only; a mid-shaft pixel in two opposite
    ones. Spelling this out lets a small model see where along a shaft it is.
    """
    samples = padded_darkness[
        rows[:, None] + RAY_PAD + RAY_ROWS[None, :], cols[:, None] + RAY_PAD + RAY_COLS[None, :]
    ]
    sums = np.add.reduceat(samples, RAY_STARTS, axis=1)
    return np.asarray(sums / RAY_SAMPLES, dtype=np.float32)


def fine_grid(work_rgb: NDArray[np.generic]) -> Float32Array:
    """Skin-normalised channels at half the working resolution (the detector's grid)."""
    return block_mean(normalised_channels(work_rgb), 2)
