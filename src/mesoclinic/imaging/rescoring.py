"""Second look at each candidate hair: a logistic model over the traced shaft's context.

The exit-point detector sees a patch; this stage sees the whole traced shaft: how long and
wide it is, whether the skin beyond the candidate end is darker or bluer than beyond the far
end (a follicle opening and the hair under the skin continue behind a real exit; a cut tip
ends on plain skin), how close it is to the border and to other candidates. Weights are
fitted by bench/imaging_train_rescore.py on tuning subjects and stored as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

# One rescoring model per exit-point detector: each is fitted on that detector's candidates.
RESCORE_FILES = {"mlp": "rescore_model.json", "cnn": "rescore_cnn.json"}
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
    "candidate_at_far_end",
    "far_end_score",
    "far_end_border_distance",
)
# Kept candidates closer than this (working-grid px, 25 px of a 1280 px image) are one hair
# seen twice, mostly on either edge of a thick shaft: only the more probable one is kept.
DUPLICATE_RADIUS_WORK_PX = 12.5


@dataclass(frozen=True)
class RescoreModel:
    """Logistic weights over FEATURE_NAMES (standardised) and the keep threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    candidate_threshold: float = 0.5  # detector score above which candidates are made

    def probabilities(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Probability that each candidate (row of features) is a labelled-quality hair."""
        z = (features - np.array(self.mean)) / np.array(self.scale)
        logits = z @ np.array(self.weights) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))), dtype=np.float64)

    def to_json(self) -> str:
        """Serialise (used by the training script)."""
        return json.dumps({**self.__dict__, "features": FEATURE_NAMES}, indent=1)


@lru_cache(maxsize=2)
def bundled_rescore_model(detector: str = "mlp") -> RescoreModel:
    """The rescoring model shipped with the package for one exit-point detector."""
    name = RESCORE_FILES[detector]
    text = resources.files("mesoclinic.imaging").joinpath(name).read_text("utf-8")
    data = json.loads(text)
    if tuple(data["features"]) != FEATURE_NAMES:
        raise ValueError(f"{name} was fitted on other features than {FEATURE_NAMES}")
    return RescoreModel(
        mean=tuple(data["mean"]),
        scale=tuple(data["scale"]),
        weights=tuple(data["weights"]),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
        candidate_threshold=float(data.get("candidate_threshold", 0.5)),
    )


def _mean_beyond(
    channel: NDArray[np.float32],
    rows: NDArray[np.float64],
    cols: NDArray[np.float64],
    d_rows: NDArray[np.float64],
    d_cols: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Per point: mean of a channel over a short strip starting 4 px beyond it in a direction."""
    steps = np.arange(4, 20, 2, dtype=np.float64)[None, :, None]
    offsets = np.array([-3.0, 0.0, 3.0])[None, None, :]
    r = rows[:, None, None] + steps * d_rows[:, None, None] + offsets * d_cols[:, None, None]
    c = cols[:, None, None] + steps * d_cols[:, None, None] - offsets * d_rows[:, None, None]
    r_index = np.clip(np.round(r).astype(int), 0, channel.shape[0] - 1)
    c_index = np.clip(np.round(c).astype(int), 0, channel.shape[1] - 1)
    return np.asarray(channel[r_index, c_index].mean(axis=(1, 2)), dtype=np.float64)


def candidate_features(
    exits: NDArray[np.float64],
    angles: NDArray[np.float64],
    lengths: NDArray[np.float64],
    widths: NDArray[np.float64],
    scores: NDArray[np.float64],
    value: NDArray[np.float32],
    blue: NDArray[np.float32],
    valid: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """FEATURE_NAMES (columns) for candidates on the working grid (angles: radians, y down).

    Border distances are to the edge of the analysed region (valid; the whole image if None).
    """
    rows, cols = exits[:, 0], exits[:, 1]
    d_rows, d_cols = np.sin(angles), np.cos(angles)
    far_rows, far_cols = rows + lengths * d_rows, cols + lengths * d_cols
    box = _region_box(valid if valid is not None else np.ones(value.shape, dtype=bool))
    border = _border_distance(rows, cols, box)
    # Annotators often leave out hairs whose shaft runs out of the field, exit visible or not:
    # a shaft ending at the border is less likely a labelled-quality hair.
    far_border = _border_distance(far_rows, far_cols, box)
    gaps = np.hypot(rows[:, None] - rows[None, :], cols[:, None] - cols[None, :])
    neighbours = ((gaps > 0.5) & (gaps < 10)).sum(axis=1)
    # A candidate at the far end of this shaft means one of the two is a cut tip: the
    # model can weigh the two scores against each other.
    far_gaps = np.hypot(far_rows[:, None] - rows[None, :], far_cols[:, None] - cols[None, :])
    np.fill_diagonal(far_gaps, np.inf)
    nearest_far = far_gaps.argmin(axis=1) if len(rows) else np.zeros(0, dtype=int)
    far_distance = far_gaps[np.arange(len(rows)), nearest_far] if len(rows) else np.zeros(0)
    at_far_end = far_distance < 12
    far_score = np.where(at_far_end, scores[nearest_far] if len(rows) else 0.0, 0.0)
    columns = [
        scores,
        np.log1p(lengths),
        widths,
        1.0 - _mean_beyond(value, rows, cols, -d_rows, -d_cols),
        1.0 - _mean_beyond(value, far_rows, far_cols, d_rows, d_cols),
        _mean_beyond(blue, rows, cols, -d_rows, -d_cols),
        _mean_beyond(blue, far_rows, far_cols, d_rows, d_cols),
        np.minimum(border, 60.0),
        neighbours.astype(np.float64),
        at_far_end.astype(np.float64),
        far_score,
        np.clip(far_border, 0.0, 30.0),
    ]
    return np.column_stack(columns).astype(np.float64)


def _region_box(valid: NDArray[np.bool_]) -> tuple[int, int, int, int] | None:
    """First and last row and column of the valid region; None when it is empty."""
    any_rows, any_cols = np.nonzero(valid.any(axis=1))[0], np.nonzero(valid.any(axis=0))[0]
    if len(any_rows) == 0:
        return None
    return int(any_rows[0]), int(any_rows[-1]), int(any_cols[0]), int(any_cols[-1])


def _border_distance(
    rows: NDArray[np.float64], cols: NDArray[np.float64], box: tuple[int, int, int, int] | None
) -> NDArray[np.float64]:
    """Distance (work px) of points to the nearest edge of the region's box (0 if none)."""
    if box is None:
        return np.zeros(len(rows))
    r0, r1, c0, c1 = box
    return np.asarray(np.minimum.reduce([rows - r0, cols - c0, r1 - rows, c1 - cols]), np.float64)


def suppress_duplicates(
    points: NDArray[np.float64],
    probabilities: NDArray[np.float64],
    keep: NDArray[np.bool_],
    radius: float,
) -> NDArray[np.bool_]:
    """keep, less every kept point closer than radius to a more probable kept point."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    result = np.zeros(len(points), dtype=bool)
    chosen: list[int] = []
    for i in np.argsort(-probabilities, kind="stable"):
        if not keep[i]:
            continue
        if chosen and np.hypot(*(points[chosen] - points[i]).T).min() < radius:
            continue
        chosen.append(int(i))
        result[i] = True
    return result
