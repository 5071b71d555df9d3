"""Fit the rescoring stage (src/mesoclinic/imaging/rescore_model.json) on tuning subjects.

Candidates come from the bundled exit-point detector at a low threshold; a candidate is
positive when it matches a labelled exit point (15 px, one-to-one). A logistic regression
(NumPy, L2) is fitted on the training part of the tuning subjects and the keep threshold is
chosen for the best F1 on the held-out tuning subjects (imaging_dataset.held_out).

    PYTHONPATH=src python bench/imaging_train_rescore.py [--detector mlp|cnn]
        [--fixed-cut] [--without FEATURE ...] [--output PATH]

--fixed-cut analyses the profile's fixed 32-row cut instead of each image's own overlays
(0.3.1); --without fits with a feature left out (its weight fixed at 0), to measure what it
earns; --output writes elsewhere than the shipped model (for such measurements);
--cnn-model PATH takes the CNN's candidates from another exported network (a training run's).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import cast

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_dataset import LabelledImage, held_out, labelled_images  # noqa: E402
from imaging_metrics import MATCH_RADIUS_PX, Tally, count_statistics  # noqa: E402

from mesoclinic.imaging import cnn_detector  # noqa: E402
from mesoclinic.imaging.analysis import (  # noqa: E402
    AnalysisParams,
    analysed_region,
    find_candidates,
    to_work_resolution,
)
from mesoclinic.imaging.cnn_detector import PEAK_DISTANCE  # noqa: E402
from mesoclinic.imaging.detector import bundled_model  # noqa: E402
from mesoclinic.imaging.loading import load_image  # noqa: E402
from mesoclinic.imaging.matching import match_points  # noqa: E402
from mesoclinic.imaging.profiles import get_profile  # noqa: E402
from mesoclinic.imaging.rescoring import (  # noqa: E402
    DUPLICATE_RADIUS_WORK_PX,
    FEATURE_NAMES,
    RESCORE_FILES,
    RescoreModel,
    suppress_duplicates,
)
from mesoclinic.imaging.results import DETECTORS, Detector  # noqa: E402

OUTPUT = Path(__file__).resolve().parents[1] / "src/mesoclinic/imaging" / RESCORE_FILES["mlp"]
# Detector score above which a peak becomes a candidate: low, so rescoring can recover hairs.
CANDIDATE_THRESHOLD = {"mlp": 0.5, "cnn": 0.12}
SOURCE_PER_WORK = 2.0
DUPLICATE_RADIUS = DUPLICATE_RADIUS_WORK_PX  # --duplicate-radius (measurements only)


def candidates(
    image: LabelledImage, detector: str, detect_overlays: bool = True, **options: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, match labels and source (x, y) of one image's candidates (FDU images: one
    working-grid px is SOURCE_PER_WORK source px), on the region analyze_image analyses."""
    profile = get_profile("fdu-70x")
    loaded = load_image(image.path)
    work, factor = to_work_resolution(loaded.pixels)
    scale = factor * loaded.source_scale
    assert abs(scale - SOURCE_PER_WORK) < 1e-6, f"{image.path.name}: not a 1280 px wide image"
    params = AnalysisParams(
        detector=cast(Detector, detector),
        detect_overlays=detect_overlays,
        peak_distance=int(options.get("peak_distance", PEAK_DISTANCE)),
        shoulder_sigma=options.get("shoulder_sigma", 0.0),
        shoulder_gap=options.get("shoulder_gap", 3.0),
    )
    valid = analysed_region(work, profile.roi_for(1280, 1024), scale, params)
    threshold = options.get("candidate_threshold", CANDIDATE_THRESHOLD[detector])
    found = find_candidates(work, valid, params, bundled_model(), threshold)
    points = (found.exits[:, ::-1] + 0.5) * scale - 0.5
    truth = np.array([[h.x0, h.y0] for h in image.hairs], dtype=np.float64)
    matched = np.zeros(len(points))
    matched[[i for i, _ in match_points(points, truth, MATCH_RADIUS_PX)]] = 1
    return found.features, matched, points


def use_network(path: Path) -> None:
    """Take the CNN's candidates from another exported network than the bundled one (a
    candidate network from bench/imaging_train_cnn.py; measurement only)."""
    import onnxruntime as ort  # noqa: PLC0415

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path.read_bytes(), options, providers=["CPUExecutionProvider"])
    cnn_detector._session = lambda: session  # heat_map looks the session up per call


def fit_logistic(
    x: np.ndarray, y: np.ndarray, without: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """L2 logistic regression on standardised features; features named in `without` are
    left out (mean 0, scale 1, weight 0: the stored model ignores them)."""
    dropped = np.array([name in without for name in FEATURE_NAMES])
    x = np.where(dropped[None, :], 0.0, x)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    scale[dropped] = 1.0
    z = (x - mean) / scale
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + 1e-3 * w)
        b -= 0.5 * float((p - y).mean())
        w[dropped] = 0.0
    return mean, scale, w, b


# Fields with more hairs than this (kept at the base threshold) get a lower keep threshold.
DENSITY_REFERENCE = 12


def density_threshold(
    probabilities: np.ndarray, points: np.ndarray, threshold: float, slope: float
) -> float:
    """One image's keep threshold, lowered by `slope` per 10 hairs above DENSITY_REFERENCE
    (counted at the base threshold, duplicates merged): dense fields are under-counted.
    Measured (--density-sweep), not shipped: docs/imaging.md."""
    if slope == 0 or len(probabilities) == 0:
        return threshold
    radius = DUPLICATE_RADIUS * SOURCE_PER_WORK
    base = suppress_duplicates(points, probabilities, probabilities >= threshold, radius)
    excess = max(0, int(base.sum()) - DENSITY_REFERENCE)
    return float(max(0.05, threshold - slope * excess / 10.0))


def density_sweep(checked: list[tuple[LabelledImage, np.ndarray, np.ndarray]]) -> None:
    """Out-of-fold figures of density-dependent keep thresholds (measurement only)."""
    for slope in (0.0, 0.05, 0.1, 0.15, 0.2):
        for threshold in (0.3, 0.325, 0.35):
            tally = Tally()
            predicted, labelled = [], []
            for image, probabilities, points in checked:
                local = density_threshold(probabilities, points, float(threshold), slope)
                keep = suppress_duplicates(
                    points,
                    probabilities,
                    probabilities >= local,
                    DUPLICATE_RADIUS * SOURCE_PER_WORK,
                )
                truth = np.array([[h.x0, h.y0] for h in image.hairs], dtype=np.float64)
                tally.add(points[keep].reshape(-1, 2), truth)
                predicted.append(int(keep.sum()))
                labelled.append(len(truth))
            p, r, f1 = tally.precision_recall_f1()
            counts = count_statistics(predicted, labelled)
            print(
                f"density slope {slope:.2f} threshold {threshold:.3f}: P {p:.3f} R {r:.3f} "
                f"F1 {f1:.3f} count error {counts['mean_relative_count_error']:.3f} "
                f"r {counts['pearson_r']:.3f} signed {counts['mean_signed_count_error']:+.2f}"
            )


def choose_threshold(
    checked: list[tuple[LabelledImage, np.ndarray, np.ndarray]],
) -> tuple[float, float]:
    """Keep threshold over per-candidate probabilities: among thresholds within 0.01 F1 of
    the best, the one of least mean relative count error (counts, i.e. density, are what
    clinics read; the F1 curve is flat near its top). Duplicates are suppressed as
    analyze_image does."""
    trials = []
    for threshold in np.arange(0.1, 0.8, 0.025):
        tally = Tally()
        predicted, labelled = [], []
        for image, probabilities, points in checked:
            keep = suppress_duplicates(
                points,
                probabilities,
                probabilities >= threshold,
                DUPLICATE_RADIUS * SOURCE_PER_WORK,
            )
            truth = np.array([[h.x0, h.y0] for h in image.hairs], dtype=np.float64)
            tally.add(points[keep].reshape(-1, 2), truth)
            predicted.append(int(keep.sum()))
            labelled.append(len(truth))
        p, r, f1 = tally.precision_recall_f1()
        counts = count_statistics(predicted, labelled)
        error = counts["mean_relative_count_error"]
        print(
            f"threshold {threshold:.3f}: P {p:.3f} R {r:.3f} F1 {f1:.3f} "
            f"count error {error:.3f} r {counts['pearson_r']:.3f} "
            f"signed {counts['mean_signed_count_error']:+.2f}"
        )
        trials.append((f1, error, float(threshold), p, r, counts["pearson_r"]))
    best_f1 = max(t[0] for t in trials)
    f1, error, threshold, p, r, pearson = min(
        (t for t in trials if t[0] >= best_f1 - 0.01), key=lambda t: t[1]
    )
    print(
        f"chosen (held-out tuning images; cnn: out of fold): threshold {threshold:.3f} "
        f"P {p:.3f} R {r:.3f} F1 {f1:.3f} count error {error:.3f} r {pearson:.3f}"
    )
    return round(threshold, 3), f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", choices=DETECTORS, default="mlp")
    parser.add_argument("--fixed-cut", action="store_true", help="0.3.1's fixed top cut")
    parser.add_argument("--without", nargs="*", choices=FEATURE_NAMES, default=[])
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--peak-distance", type=int, default=PEAK_DISTANCE)
    parser.add_argument("--candidate-threshold", type=float, default=None)
    parser.add_argument("--shoulder-sigma", type=float, default=0.0)
    parser.add_argument("--shoulder-gap", type=float, default=3.0)
    parser.add_argument("--density-sweep", action="store_true")
    parser.add_argument("--duplicate-radius", type=float, default=DUPLICATE_RADIUS_WORK_PX)
    parser.add_argument("--cnn-model", type=Path, default=None, help="another exported network")
    args = parser.parse_args()
    if args.cnn_model is not None:
        use_network(args.cnn_model)
    detector = args.detector
    without = tuple(args.without)
    output = args.output or OUTPUT.parent / RESCORE_FILES[detector]
    overlays = not args.fixed_cut
    options = {
        "peak_distance": float(args.peak_distance),
        "shoulder_sigma": args.shoulder_sigma,
        "shoulder_gap": args.shoulder_gap,
    }
    global DUPLICATE_RADIUS
    DUPLICATE_RADIUS = args.duplicate_radius
    if args.candidate_threshold is not None:
        options["candidate_threshold"] = args.candidate_threshold
        CANDIDATE_THRESHOLD[detector] = args.candidate_threshold
    tune = labelled_images("tune")
    validation = [image for image in tune if held_out(image.subject)]
    if detector == "mlp":
        # The MLP's training images give candidates much like unseen ones: fit on them and
        # pick the threshold on the held-out subjects.
        fit = [image for image in tune if not held_out(image.subject)]
        fitted = [candidates(image, detector, overlays, **options) for image in fit]
        x = np.concatenate([f for f, _, _ in fitted])
        y = np.concatenate([m for _, m, _ in fitted])
        print(f"{len(x)} candidates, {int(y.sum())} matched")
        mean, scale, w, b = fit_logistic(x, y, without)
        model = RescoreModel(tuple(mean), tuple(scale), tuple(w), b, 0.5)
        checked = []
        for image in validation:
            features, _, points = candidates(image, detector, overlays, **options)
            probabilities = model.probabilities(features) if len(features) else np.zeros(0)
            checked.append((image, probabilities, points))
    else:
        # The CNN has nearly memorised its training images, so their candidates would teach
        # the model to trust the detector score too much: fit on the held-out subjects only,
        # four subject folds give out-of-fold probabilities for the threshold.
        found = [(image, *candidates(image, detector, overlays, **options)) for image in validation]
        fold = [hashlib.sha256(f"fold:{im.subject}".encode()).digest()[0] % 4 for im, *_ in found]
        checked = []
        for k in range(4):
            train = [f for f, i in zip(found, fold, strict=True) if i != k]
            mean, scale, w, b = fit_logistic(
                np.concatenate([f[1] for f in train]),
                np.concatenate([f[2] for f in train]),
                without,
            )
            model = RescoreModel(tuple(mean), tuple(scale), tuple(w), b, 0.5)
            for (image, features, _, points), i in zip(found, fold, strict=True):
                if i == k:
                    probabilities = model.probabilities(features) if len(features) else np.zeros(0)
                    checked.append((image, probabilities, points))
        x = np.concatenate([f[1] for f in found])
        y = np.concatenate([f[2] for f in found])
        print(f"{len(x)} candidates, {int(y.sum())} matched")
        mean, scale, w, b = fit_logistic(x, y, without)
    if args.density_sweep:
        density_sweep(checked)
    threshold, f1 = choose_threshold(checked)
    model = RescoreModel(
        tuple(mean), tuple(scale), tuple(w), b, threshold, CANDIDATE_THRESHOLD[detector]
    )
    output.write_text(model.to_json() + "\n")
    print(f"saved {output} (threshold {model.threshold}, validation F1 {f1:.3f})")


if __name__ == "__main__":
    main()
