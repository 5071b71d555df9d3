"""The labels' own agreement on the FDU twin photos, and the detector's parity with it.

    PYTHONPATH=src python bench/imaging_twins.py            # labels vs labels, detector vs both
    PYTHONPATH=src python bench/imaging_twins.py --labels-only

The FDU set holds some photos twice under two subject ids, each copy labelled separately
(`duplicate-pairs.txt`). Labelling A against labelling B of the same photo is the bar a detector
can be held to: localisation F1 at 15 and 25 px (one-to-one, Hungarian), the mean relative count
error (each labelling taken as the truth in turn, averaged), the count correlation, how far apart
two clicks for the same hair are, and the share of labels with no counterpart. The parity table
then compares the detector's count error against each labelling with the two labellings' own
difference, on every pair and on the pairs of the report split (never used for tuning).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_dataset import FDU, read_labels, split_of, subject_of, twin_pairs  # noqa: E402
from imaging_metrics import Tally, count_statistics  # noqa: E402

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image  # noqa: E402
from mesoclinic.imaging.loading import load_image  # noqa: E402
from mesoclinic.imaging.matching import match_points  # noqa: E402
from mesoclinic.imaging.profiles import get_profile  # noqa: E402


@dataclass(frozen=True)
class Twin:
    """One photo held twice: its two labellings' exit points and whether it is in 'report'."""

    first: str
    second: str
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    report: bool


def exits(name: str) -> NDArray[np.float64]:
    hairs = read_labels(FDU / "annotations" / f"{Path(name).stem}.xml")
    return np.array([[h.x0, h.y0] for h in hairs], dtype=np.float64).reshape(-1, 2)


def twins() -> list[Twin]:
    return [
        Twin(a, b, exits(a), exits(b), split_of(subject_of(Path(a))) == "report")
        for a, b in twin_pairs()
    ]


def agreement(first: list[NDArray[np.float64]], second: list[NDArray[np.float64]]) -> dict:
    """How well one set of exit points reproduces another, photo by photo (symmetric)."""
    strict, loose = Tally(radius=15.0), Tally(radius=25.0)
    gaps: list[float] = []
    for p, q in zip(first, second, strict=True):
        strict.add(p, q)
        for i, j in loose.add(p, q):
            gaps.append(float(np.hypot(*(p[i] - q[j]))))
    n_first = [len(p) for p in first]
    n_second = [len(q) for q in second]
    one_way = count_statistics(n_first, n_second)
    other_way = count_statistics(n_second, n_first)
    unmatched = 1 - 2 * loose.matched / max(1, loose.detected + loose.labelled)
    return {
        "photos": len(first),
        "f1_15px": strict.precision_recall_f1()[2],
        "f1_25px": loose.precision_recall_f1()[2],
        "mean_relative_count_error": (
            one_way["mean_relative_count_error"] + other_way["mean_relative_count_error"]
        )
        / 2,
        "count_mae": one_way["count_mae"],
        "count_r": one_way["pearson_r"],
        "median_click_gap_px": float(np.median(gaps)) if gaps else float("nan"),
        "labels_without_counterpart_25px": unmatched,
    }


def detect(name: str) -> NDArray[np.float64]:
    profile = get_profile("fdu-70x")
    loaded = load_image(FDU / "images" / name)
    result = analyze_image(
        loaded.pixels,
        profile.calibration_for(loaded.source_width),
        profile.roi_for(loaded.source_width, loaded.source_height),
        source_scale=loaded.source_scale,
        params=AnalysisParams(),
    )
    return np.array([[h.x, h.y] for h in result.hairs], dtype=np.float64).reshape(-1, 2)


def parity_rows(pairs: list[Twin], found: list[NDArray[np.float64]]) -> list[dict]:
    rows = []
    for twin, detected in zip(pairs, found, strict=True):
        n_a, n_b, n_d = len(twin.a), len(twin.b), len(detected)
        rows.append(
            {
                "photo": f"{twin.first} / {twin.second}",
                "report": twin.report,
                "labels_a": n_a,
                "labels_b": n_b,
                "detected": n_d,
                "a_vs_b": abs(n_a - n_b),
                "detector_vs_a": abs(n_d - n_a),
                "detector_vs_b": abs(n_d - n_b),
                "f1_15px_vs_a": _f1(detected, twin.a),
                "f1_15px_vs_b": _f1(detected, twin.b),
                "f1_15px_a_vs_b": _f1(twin.a, twin.b),
            }
        )
    return rows


def _f1(p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
    matched = len(match_points(p, q, 15.0))
    return 2 * matched / max(1, len(p) + len(q))


def _summary(rows: list[dict]) -> dict[str, float]:
    if not rows:
        return {}
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    return {
        "pairs": float(len(rows)),
        "mean_abs_count_a_vs_b": mean("a_vs_b"),
        "mean_abs_count_detector_vs_a": mean("detector_vs_a"),
        "mean_abs_count_detector_vs_b": mean("detector_vs_b"),
        "mean_f1_15px_a_vs_b": mean("f1_15px_a_vs_b"),
        "mean_f1_15px_detector_vs_a": mean("f1_15px_vs_a"),
        "mean_f1_15px_detector_vs_b": mean("f1_15px_vs_b"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels-only", action="store_true", help="skip the detector")
    args = parser.parse_args()
    pairs = twins()
    if not pairs:
        sys.exit(f"no twin pairs found at {FDU}")
    figures: dict[str, object] = {
        "labels_a_vs_b": agreement([t.a for t in pairs], [t.b for t in pairs])
    }
    print(f"twin photos: {len(pairs)} ({sum(t.report for t in pairs)} in the report split)")
    print("labelling A vs labelling B (all pairs):")
    for name, value in figures["labels_a_vs_b"].items():  # type: ignore[attr-defined]
        print(f"  {name:34s} {value:.4f}")
    if not args.labels_only:
        found = [detect(t.first) for t in pairs]
        rows = parity_rows(pairs, found)
        print("\nparity (count error, hairs; F1 at 15 px):")
        header = "photo", "split", "A", "B", "det", "|A-B|", "|d-A|", "|d-B|", "F1 d-A", "F1 A-B"
        print(
            "  {:44s} {:6s} {:>3s} {:>3s} {:>4s} {:>5s} {:>5s} {:>5s} {:>6s} {:>6s}".format(*header)
        )
        for r in rows:
            print(
                f"  {r['photo']:44s} {'report' if r['report'] else 'tune':6s} "
                f"{r['labels_a']:3d} {r['labels_b']:3d} {r['detected']:4d} {r['a_vs_b']:5d} "
                f"{r['detector_vs_a']:5d} {r['detector_vs_b']:5d} "
                f"{r['f1_15px_vs_a']:6.3f} {r['f1_15px_a_vs_b']:6.3f}"
            )
        figures["parity_all"] = _summary(rows)
        figures["parity_report"] = _summary([r for r in rows if r["report"]])
        for key in ("parity_all", "parity_report"):
            print(f"{key}:")
            for name, value in figures[key].items():  # type: ignore[attr-defined]
                print(f"  {name:34s} {value:.3f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
