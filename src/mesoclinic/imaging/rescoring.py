"""Second look at each candidate hair: a logistic model over the traced shaft's context.

The exit-point detector sees a patch; this stage sees the whole traced shaft: how long and
wide it is, whether the skin beyond the candidate end is darker or bluer than beyond the far
end (a follicle opening and the hair under the skin continue behind a real exit; a cut tip
ends on plain skin), how close it is to the border and to other candidates. Weights are
fitted by bench/imaging_train_rescore.py on tuning subjects and stored as JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

RESCORE_FILE = "rescore_model.json"
FEATURE_NAMES = (
    "detector_score",
    "log_length",
    "width",
    "dark_behind",
    "dark_beyond_far_end",
    "blue_behind",
    "blue_beyond_far_end",
    "border_distance",
    "neighbours",
)


@dataclass(frozen=True)
class RescoreModel:
    """Logistic weights over FEATURE_NAMES (standardised) and the keep threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probabilities(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Probability that each candidate (row of features) is a labelled-quality hair."""
        z = (features - np.array(self.mean)) / np.array(self.scale)
        logits = z @ np.array(self.weights) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))), dtype=np.float64)

    def to_json(self) -> str:
        """Serialise (used by the training script)."""
        return json.dumps({**self.__dict__, "features": FEATURE_NAMES}, indent=1)


@lru_cache(maxsize=1)
def bundled_rescore_model() -> RescoreModel:
    """The rescoring model shipped with the package."""
    text = resources.files("mesoclinic.imaging").joinpath(RESCORE_FILE).read_text("utf-8")
    data = json.loads(text)
    return RescoreModel(
        mean=tuple(data["mean"]),
        scale=tuple(data["scale"]),
        weights=tuple(data["weights"]),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
    )


def _mean_beyond(
    channel: NDArray[np.float32], row: float, col: float, d_row: float, d_col: float
) -> float:
    """Mean of a channel over a short strip starting 4 px beyond a point in a direction."""
    steps = np.arange(4, 20, 2, dtype=np.float64)
    offsets = np.array([-3.0, 0.0, 3.0])
    rows = row + steps[:, None] * d_row + offsets[None, :] * d_col
    cols = col + steps[:, None] * d_col - offsets[None, :] * d_row
    r = np.clip(np.round(rows).astype(int), 0, channel.shape[0] - 1)
    c = np.clip(np.round(cols).astype(int), 0, channel.shape[1] - 1)
    return float(channel[r, c].mean())


def candidate_features(
    row: float,
    col: float,
    angle: float,
    length: float,
    width: float,
    score: float,
    value: NDArray[np.float32],
    blue: NDArray[np.float32],
    others: NDArray[np.float64],
) -> list[float]:
    """FEATURE_NAMES for one candidate on the working grid (angle: radians, y down)."""
    d_row, d_col = math.sin(angle), math.cos(angle)
    far_row, far_col = row + length * d_row, col + length * d_col
    height, width_px = value.shape
    border = min(row, col, height - 1 - row, width_px - 1 - col)
    gaps = np.hypot(others[:, 0] - row, others[:, 1] - col) if len(others) else np.zeros(0)
    return [
        score,
        math.log1p(length),
        width,
        1.0 - _mean_beyond(value, row, col, -d_row, -d_col),
        1.0 - _mean_beyond(value, far_row, far_col, d_row, d_col),
        _mean_beyond(blue, row, col, -d_row, -d_col),
        _mean_beyond(blue, far_row, far_col, d_row, d_col),
        min(border, 60.0),
        float(((gaps > 0.5) & (gaps < 10)).sum()),
    ]
