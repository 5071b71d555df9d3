"""Accuracy and speed of the trichoscopy analysis on the shared FDU and hair-shaft-mask sets.

    PYTHONPATH=src python bench/imaging_accuracy.py            # full report split
    PYTHONPATH=src python bench/imaging_accuracy.py --quick    # a handful of images (CI)
    PYTHONPATH=src python bench/imaging_accuracy.py --split tune
    PYTHONPATH=src python bench/imaging_accuracy.py --split held-out   # the tuning quarter
                                                   # never used to train the network
    PYTHONPATH=src python bench/imaging_accuracy.py --detector cnn|mlp   # default: cnn

Figures: count MAE, mean relative count error, Pearson r of counts, localisation
precision/recall/F1 (a detection matches a labelled exit point within 15 px, one-to-one,
Hungarian; F1 also within 25 px), each headline figure with a 95 % interval from 1,000 subject
bootstrap resamples, recall by label class, shaft-mask Dice and the shaft-width ratio
(measured / hand-drawn) on the masks set, seconds per image (decode included, one thread).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import cast  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import ndimage as ndi  # noqa: E402
from skimage.morphology import skeletonize  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_dataset import FDU, MASKS, held_out, labelled_images  # noqa: E402
from imaging_metrics import (  # noqa: E402
    ImageScore,
    Tally,
    count_statistics,
    dice,
    subject_bootstrap,
)

from mesoclinic.imaging.analysis import (  # noqa: E402
    AnalysisParams,
    analyze_image,
    as_rgb,
    unit_radius,
)
from mesoclinic.imaging.hairs import widths_across  # noqa: E402
from mesoclinic.imaging.loading import WORK_WIDTH, load_image  # noqa: E402
from mesoclinic.imaging.profiles import get_profile  # noqa: E402
from mesoclinic.imaging.results import DETECTORS, Detector  # noqa: E402
from mesoclinic.imaging.segmentation import (  # noqa: E402
    SegmentationParams,
    shaft_maps,
)
from mesoclinic.imaging.units import unit_labels  # noqa: E402

QUICK_IMAGES = 6
UNIT_CLASSES = ("single", "premium")


def detection_figures(
    split: str, limit: int | None, detector: str = "cnn", rescore: bool = True
) -> dict[str, float]:
    """Run the analysis over one split's images and compare with the labels."""
    if split == "held-out":
        images = [image for image in labelled_images("tune") if held_out(image.subject)]
    else:
        images = labelled_images(split)
    if limit is not None:
        images = images[:: max(1, len(images) // limit)][:limit]
    profile = get_profile("fdu-70x")
    tally = Tally()
    # Not a target: how many detections sit 15-25 px from their label (docs/imaging.md).
    loose = Tally(radius=25.0)
    params = AnalysisParams(detector=cast(Detector, detector), rescore=rescore)
    predicted, labelled, seconds, cpu_seconds = [], [], [], []
    scores: list[ImageScore] = []
    class_found: Counter[str] = Counter()
    class_labelled: Counter[str] = Counter()
    unit_votes: Counter[tuple[str, bool]] = Counter()
    vellus_votes: Counter[tuple[bool, bool]] = Counter()
    for image in images:
        started = time.perf_counter()
        cpu_started = time.process_time()
        loaded = load_image(image.path)
        roi = profile.roi_for(loaded.source_width, loaded.source_height)
        calibration = profile.calibration_for(loaded.source_width)
        result = analyze_image(
            loaded.pixels, calibration, roi, source_scale=loaded.source_scale, params=params
        )
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
        detected = np.array([[h.x, h.y] for h in result.hairs], dtype=np.float64).reshape(-1, 2)
        truth = np.array([[h.x0, h.y0] for h in image.hairs], dtype=np.float64)
        pairs = tally.add(detected, truth)
        loose_pairs = loose.add(detected, truth)
        scores.append(
            ImageScore(image.subject, len(pairs), len(loose_pairs), len(detected), len(truth))
        )
        class_labelled.update(h.kind for h in image.hairs)
        class_found.update(image.hairs[j].kind for _, j in pairs)
        # Follicular units: is each matched hair in a multi-hair unit, as its label says?
        labels = unit_labels(detected, unit_radius(params, loaded.source_width / WORK_WIDTH))
        in_unit = np.bincount(labels)[labels] > 1 if len(labels) else np.zeros(0, dtype=bool)
        for i, j in pairs:
            kind = image.hairs[j].kind
            if kind in UNIT_CLASSES:
                unit_votes[(kind, bool(in_unit[i]))] += 1
            # Terminal / vellus against the labels' 'undersize' (thin or short) class.
            terminal = result.hairs[i].terminal
            if terminal is not None:
                vellus_votes[(kind == "undersize", not terminal)] += 1
        predicted.append(result.hair_count)
        labelled.append(len(image.hairs))
    precision, recall, f1 = tally.precision_recall_f1()
    single_alone = _share(unit_votes[("single", False)], unit_votes[("single", True)])
    multi_grouped = _share(unit_votes[("premium", True)], unit_votes[("premium", False)])
    figures = {
        "images": float(len(images)),
        "subjects": float(len({image.subject for image in images})),
        **count_statistics(predicted, labelled),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "f1_within_25px": loose.precision_recall_f1()[2],
        # Balanced accuracy of one-hair vs multi-hair unit on matched hairs whose label class
        # says which ('single' / 'premium', see the data README).
        "unit_class_agreement": (single_alone + multi_grouped) / 2,
        "vellus_share_of_undersize": _share(
            vellus_votes[(True, True)], vellus_votes[(True, False)]
        ),
        "vellus_share_of_others": _share(vellus_votes[(False, True)], vellus_votes[(False, False)]),
        **{
            f"recall_{kind}": class_found[kind] / class_labelled[kind]
            for kind in sorted(class_labelled)
        },
        "seconds_per_image": float(np.mean(seconds)) if seconds else float("nan"),
        "seconds_per_image_p95": float(np.percentile(seconds, 95)) if seconds else float("nan"),
        # CPU time of this single-threaded process: the per-core cost even on a busy machine.
        "cpu_seconds_per_image": float(np.mean(cpu_seconds)) if cpu_seconds else float("nan"),
    }
    for name, (low, high) in subject_bootstrap(scores).items():
        figures[f"{name}_ci_low"] = low
        figures[f"{name}_ci_high"] = high
    return figures


def _share(hits: int, misses: int) -> float:
    """hits / (hits + misses), 0 when both are 0."""
    return hits / max(1, hits + misses)


def tile_figures(folder: str, limit: int | None) -> tuple[float, float]:
    """On one folder of hand-masked 128x128 tiles: the mean Dice of the shaft mask, and the
    median over tiles of (measured shaft width / hand-drawn shaft width), both widths taken
    at the hand mask's centre line (the width measure's bias against hand-drawn masks).

    Tiles are upsampled 2x to the working scale: they show shafts about half as wide as the
    working grid expects."""
    scores, ratios = [], []
    for path in sorted((MASKS / folder).glob("*.jpg"))[:limit]:
        target_path = MASKS / f"{folder}_target" / f"{path.stem}_t.jpg"
        with Image.open(path) as tile, Image.open(target_path) as target:
            grey = tile.convert("L").resize((256, 256), Image.Resampling.BILINEAR)
            small_truth = np.asarray(target.convert("L")) < 128
        maps = shaft_maps(as_rgb(np.asarray(grey)), SegmentationParams())
        mask_small = maps.mask.reshape(128, 2, 128, 2).mean(axis=(1, 3)) >= 0.5
        scores.append(dice(mask_small, small_truth))
        truth = small_truth.repeat(2, axis=0).repeat(2, axis=1)
        centre = skeletonize(truth)  # type: ignore[no-untyped-call]
        rows, cols = np.nonzero(centre)
        if len(rows) < 20:
            continue
        # Shaft direction from the structure tensor of the hand mask.
        smooth = ndi.gaussian_filter(truth.astype(np.float64), 1.0)
        d_row, d_col = ndi.sobel(smooth, axis=0), ndi.sobel(smooth, axis=1)
        jrr, jcc, jrc = (ndi.gaussian_filter(v, 3.0) for v in (d_row**2, d_col**2, d_row * d_col))
        normal = 0.5 * np.arctan2(2 * jrc[rows, cols], jcc[rows, cols] - jrr[rows, cols])
        angles = normal + np.pi / 2  # the shaft runs across its intensity gradient
        hand = 2 * ndi.distance_transform_edt(truth)[rows, cols] - 1
        measured = widths_across(maps.darkness, rows.astype(float), cols.astype(float), angles)
        if np.isfinite(measured).sum() >= 10:
            ratios.append(float(np.nanmedian(measured) / np.median(hand)))
    nan = float("nan")
    return (
        float(np.mean(scores)) if scores else nan,
        float(np.median(ratios)) if ratios else nan,
    )


def main() -> None:
    """Print the benchmark figures (and a JSON line with all of them)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_IMAGES} images only")
    parser.add_argument("--split", choices=("report", "tune", "held-out"), default="report")
    parser.add_argument("--detector", choices=DETECTORS, default=None)
    parser.add_argument("--no-masks", action="store_true", help="skip the shaft-mask Dice")
    parser.add_argument("--no-rescore", action="store_true", help="detector peaks only")
    args = parser.parse_args()
    if not FDU.exists() or not MASKS.exists():
        sys.exit(f"shared data not found at {FDU.parent}")
    limit = QUICK_IMAGES if args.quick else None
    detector = args.detector or AnalysisParams().detector
    figures = detection_figures(args.split, limit, detector, rescore=not args.no_rescore)
    if not args.no_masks:
        for folder in ("20image", "80image"):
            dice_mean, width_ratio = tile_figures(folder, 4 if args.quick else None)
            figures[f"mask_dice_{folder}"] = dice_mean
            figures[f"width_ratio_{folder}"] = width_ratio
    print(f"split={args.split} mode={'quick' if args.quick else 'full'} detector={detector}")
    for name, value in figures.items():
        print(f"{name:28s} {value:.4f}")
    print(json.dumps({"split": args.split, "quick": args.quick, "detector": detector, **figures}))


if __name__ == "__main__":
    main()
