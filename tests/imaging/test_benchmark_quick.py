"""The accuracy benchmark runs in quick mode so it cannot rot (no timing assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_benchmark_quick_mode_prints_every_figure(fdu_data: Path, repo_root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(repo_root / "src")}
    completed = subprocess.run(
        [sys.executable, str(repo_root / "bench" / "imaging_accuracy.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    for name in (
        "count_mae",
        "mean_relative_count_error",
        "pearson_r",
        "precision",
        "recall",
        "f1",
        "unit_class_agreement",
        "mask_dice_20image",
        "width_ratio_80image",
        "seconds_per_image",
        "f1_ci_low",
        "f1_ci_high",
        "f1_within_25px_ci_high",
        "recall_premium",
    ):
        assert name in figures
    assert figures["images"] > 0 and 0.0 <= figures["f1"] <= 1.0
    assert figures["f1_ci_low"] <= figures["f1"] <= figures["f1_ci_high"]
    # Measured against hand-drawn shaft masks, the width is about 1.5x theirs (docs/imaging.md).
    assert 1.0 < figures["width_ratio_80image"] < 2.0
