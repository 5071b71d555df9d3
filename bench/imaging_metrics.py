"""Matching detections to labelled exit points and the count statistics of the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mesoclinic.imaging.matching import match_points

MATCH_RADIUS_PX = 15.0


@dataclass
class Tally:
    """Running totals over images."""

    matched: int = 0
    detected: int = 0
    labelled: int = 0
    radius: float = MATCH_RADIUS_PX

    def add(
        self, detected: NDArray[np.float64], labelled: NDArray[np.float64]
    ) -> list[tuple[int, int]]:
        """Add one image's detections and labels; returns the matched (detection, label)
        index pairs (one-to-one, Hungarian, within radius)."""
        pairs = match_points(detected, labelled, self.radius)
        self.matched += len(pairs)
        self.detected += len(detected)
        self.labelled += len(labelled)
        return pairs

    def precision_recall_f1(self) -> tuple[float, float, float]:
        """Localisation precision, recall and F1."""
        precision = self.matched / self.detected if self.detected else 0.0
        recall = self.matched / self.labelled if self.labelled else 0.0
        total = precision + recall
        return precision, recall, (2 * precision * recall / total if total else 0.0)


def count_statistics(predicted: list[int], labelled: list[int]) -> dict[str, float]:
    """Count MAE, mean relative error, mean signed error and Pearson r."""
    p = np.asarray(predicted, dtype=np.float64)
    t = np.asarray(labelled, dtype=np.float64)
    pearson = float(np.corrcoef(p, t)[0, 1]) if len(p) > 1 and p.std() > 0 else float("nan")
    return {
        "count_mae": float(np.abs(p - t).mean()),
        "mean_relative_count_error": float((np.abs(p - t) / np.maximum(t, 1)).mean()),
        "mean_signed_count_error": float((p - t).mean()),
        "pearson_r": pearson,
    }


def dice(predicted: NDArray[np.bool_], truth: NDArray[np.bool_]) -> float:
    """Dice overlap of two boolean masks (1.0 when both are empty)."""
    total = int(predicted.sum()) + int(truth.sum())
    return 1.0 if total == 0 else 2.0 * int((predicted & truth).sum()) / total


@dataclass(frozen=True)
class ImageScore:
    """One image's tallies, kept so figures can be re-drawn over resampled subjects."""

    subject: str
    matched_15: int
    matched_25: int
    detected: int
    labelled: int


def figures_of(scores: list[ImageScore]) -> dict[str, float]:
    """Localisation F1 at 15 and 25 px and the count statistics of a set of images."""
    detected = sum(s.detected for s in scores)
    labelled = sum(s.labelled for s in scores)
    total = detected + labelled
    counts = count_statistics([s.detected for s in scores], [s.labelled for s in scores])
    return {
        "f1": 2 * sum(s.matched_15 for s in scores) / total if total else 0.0,
        "f1_within_25px": 2 * sum(s.matched_25 for s in scores) / total if total else 0.0,
        "mean_relative_count_error": counts["mean_relative_count_error"],
        "pearson_r": counts["pearson_r"],
    }


def subject_bootstrap(
    scores: list[ImageScore], rounds: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of figures_of, resampling subjects (not images) with
    replacement: images of one person are not independent."""
    by_subject: dict[str, list[ImageScore]] = {}
    for score in scores:
        by_subject.setdefault(score.subject, []).append(score)
    subjects = sorted(by_subject)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(rounds):
        picked = rng.integers(0, len(subjects), len(subjects))
        sample = [s for i in picked for s in by_subject[subjects[i]]]
        for name, value in figures_of(sample).items():
            draws.setdefault(name, []).append(value)
    return {
        name: (float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5)))
        for name, v in draws.items()
    }
