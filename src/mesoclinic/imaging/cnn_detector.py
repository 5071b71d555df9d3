"""Exit-point detector, convolutional variant: a tiny U-Net heat map run with onnxruntime.

The network (bench/imaging_train_cnn.py, trained with PyTorch on tuning subjects only) maps
the skin-normalised brightness and blueness channels on the quarter-resolution grid to one
logit per grid pixel; local maxima above a threshold are exit points. Weights ship as
package data (exit_cnn.onnx); no download and no PyTorch at run time.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from mesoclinic.imaging.features import block_mean

CNN_MODEL_FILE = "exit_cnn.onnx"
MULTIPLE = 16
PEAK_THRESHOLD = 0.26  # chosen on held-out tuning subjects: best F1, unbiased count
PEAK_DISTANCE = 2


def model_input(work: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Network input (3, H, W): red, green and blue on the fine (quarter-resolution) grid of a
    working image, each divided by the skin brightness (75th percentile of the brightest
    channel), so exposure differences between images and devices cancel out."""
    fine = block_mean(np.asarray(work, dtype=np.float32), 2)
    value = fine.max(axis=2)
    skin = max(float(np.percentile(value[::2, ::2], 75)), 1.0)
    return np.ascontiguousarray(fine.transpose(2, 0, 1) / np.float32(skin), dtype=np.float32)


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime as ort  # type: ignore[import-untyped]  # noqa: PLC0415

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    model = resources.files("mesoclinic.imaging").joinpath(CNN_MODEL_FILE).read_bytes()
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def heat_map(channels: NDArray[np.float32]) -> NDArray[np.float32]:
    """Exit-point probability on the fine grid for a (2, H, W) input of any size."""
    _, height, width = channels.shape
    pad_h, pad_w = -height % MULTIPLE, -width % MULTIPLE
    padded = np.pad(channels, ((0, 0), (0, pad_h), (0, pad_w)), mode="edge")
    logits = _session().run(None, {"input": padded[None]})[0][0, 0, :height, :width]
    heat = 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))
    return np.asarray(heat, dtype=np.float32)


def heat_peaks(
    heat: NDArray[np.float32], threshold: float, distance: int = PEAK_DISTANCE
) -> NDArray[np.float64]:
    """Local maxima (row, col) above threshold, refined to sub-pixel by a 3x3 centroid."""
    size = 2 * distance + 1
    peaks = (heat == ndi.maximum_filter(heat, size=size)) & (heat > threshold)
    labels, count = ndi.label(peaks)
    if count == 0:
        return np.zeros((0, 2))
    centres = np.asarray(ndi.center_of_mass(peaks, labels, range(1, count + 1)), dtype=np.float64)
    centres = centres.reshape(-1, 2)
    rows = np.clip(np.round(centres[:, 0]).astype(int), 1, heat.shape[0] - 2)
    cols = np.clip(np.round(centres[:, 1]).astype(int), 1, heat.shape[1] - 2)
    offsets = np.arange(-1, 2)
    patch = heat[
        rows[:, None, None] + offsets[None, :, None], cols[:, None, None] + offsets[None, None, :]
    ]
    total = patch.sum(axis=(1, 2))
    d_row = (patch.sum(axis=2) * offsets).sum(axis=1) / total
    d_col = (patch.sum(axis=1) * offsets).sum(axis=1) / total
    return np.stack([rows + d_row, cols + d_col], axis=1)


def shoulder_peaks(
    heat: NDArray[np.float32],
    peaks: NDArray[np.float64],
    threshold: float,
    sigma: float,
    min_gap: float,
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Second exits hidden in the flank of a stronger peak, and their residual scores.

    Two hairs leaving one opening (exits 10-30 source px, 2.5-7.5 grid px apart) often give
    one heat blob with a single maximum and a shoulder. Each peak's own bump (a Gaussian of
    the peak's height and width sigma) is taken away; maxima of what is left, above
    threshold and at least min_gap grid px from every peak, are extra candidates, scored by
    the residual height (the rescoring stage weighs them like other candidates)."""
    if len(peaks) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.float32)
    residual = heat.astype(np.float64).copy()
    reach = int(np.ceil(3 * sigma))
    offsets = np.arange(-reach, reach + 1)
    for row, col in peaks:
        r, c = int(round(row)), int(round(col))
        rows = np.clip(r + offsets, 0, heat.shape[0] - 1)
        cols = np.clip(c + offsets, 0, heat.shape[1] - 1)
        bump = np.exp(
            -((rows[:, None] - row) ** 2 + (cols[None, :] - col) ** 2) / (2 * sigma * sigma)
        )
        height = float(heat[min(max(r, 0), heat.shape[0] - 1), min(max(c, 0), heat.shape[1] - 1)])
        patch = residual[np.ix_(rows, cols)]
        residual[np.ix_(rows, cols)] = np.minimum(patch, heat[np.ix_(rows, cols)] - height * bump)
    extra = heat_peaks(residual.astype(np.float32), threshold)
    if len(extra) == 0:
        return extra, np.zeros(0, dtype=np.float32)
    gaps = np.hypot(extra[:, None, 0] - peaks[None, :, 0], extra[:, None, 1] - peaks[None, :, 1])
    extra = extra[gaps.min(axis=1) >= min_gap]
    rows = np.clip(np.round(extra[:, 0]).astype(int), 0, heat.shape[0] - 1)
    cols = np.clip(np.round(extra[:, 1]).astype(int), 0, heat.shape[1] - 1)
    return extra, residual[rows, cols].astype(np.float32)
