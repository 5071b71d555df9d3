"""The benchmark's split keeps a twin photo with its partner, and its intervals resample subjects.

The bench modules live outside the package (bench/), so they are loaded from their files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_no_twin_photo_crosses_the_report_boundary(fdu_data: Path) -> None:
    dataset = _bench_module("imaging_dataset")
    pairs = dataset.twin_pairs()
    assert len(pairs) == 28
    crossing_before = 0
    for first, second in pairs:
        a, b = dataset.subject_of(Path(first)), dataset.subject_of(Path(second))
        crossing_before += dataset.hashed_split_of(a) != dataset.hashed_split_of(b)
        assert dataset.split_of(a) == dataset.split_of(b)
    assert crossing_before == 10  # the leak the cleaned split removes
    # The report split only shrinks: weights trained on the hashed tune split never saw it.
    for image in dataset.labelled_images("report"):
        assert dataset.hashed_split_of(image.subject) == "report"


def test_subject_bootstrap_resamples_people_not_images() -> None:
    metrics = _bench_module("imaging_metrics")
    # Subject "a" is perfect on many images, subject "b" misses everything on one image: an
    # image-level bootstrap would almost never draw an F1 of 0; a subject-level one often does.
    scores = [metrics.ImageScore("a", 10, 10, 10, 10) for _ in range(20)]
    scores.append(metrics.ImageScore("b", 0, 0, 10, 10))
    intervals = metrics.subject_bootstrap(scores, rounds=400, seed=1)
    low, high = intervals["f1"]
    assert low == pytest.approx(0.0) and high == pytest.approx(1.0)
    assert metrics.figures_of(scores)["f1"] == pytest.approx(200 / 210)


def test_twin_benchmark_prints_the_labels_own_agreement(fdu_data: Path, repo_root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(repo_root / "src")}
    completed = subprocess.run(
        [sys.executable, str(repo_root / "bench" / "imaging_twins.py"), "--labels-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    figures = json.loads(completed.stdout.strip().splitlines()[-1])["labels_a_vs_b"]
    assert figures["photos"] == 28
    # Two labellings of one photo agree well but not perfectly (docs/imaging.md).
    assert 0.75 < figures["f1_15px"] < figures["f1_25px"] < 1.0
