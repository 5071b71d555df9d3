"""A batch of trichoscopy images analysed on several cores, results in input order.

`mesoclinic analyze` hands the files here. Each file is analysed in a worker process (one per
core asked for; NumPy and SciPy hold the GIL for much of the analysis, so threads would not
help); `Pool.imap` gives the outcomes back in the order of the files, so the printed lines
and error lines are the same whatever the number of jobs. A file that cannot be decoded is an
outcome like the others (its error message), so one bad file never stops the batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image
from mesoclinic.imaging.loading import ImageLoadError, load_image
from mesoclinic.imaging.overlay import save_overlay
from mesoclinic.imaging.profiles import DeviceProfile
from mesoclinic.imaging.results import DEFAULT_DETECTOR, Calibration, Detector, Roi


@dataclass(frozen=True)
class BatchSettings:
    """What the command line asked for, validated once for the whole batch."""

    px_per_mm: float | None
    roi: Roi | None
    profile: DeviceProfile | None
    overlay: Path | None
    detector: Detector = DEFAULT_DETECTOR

    def calibration(self, source_width: int) -> Calibration | None:
        """An explicit --px-per-mm wins over the profile's (assumed) field of view."""
        if self.px_per_mm is not None:
            return Calibration(self.px_per_mm, assumed=False, source="--px-per-mm")
        if self.profile is not None:
            return self.profile.calibration_for(source_width)
        return None

    def region(self, source_width: int, source_height: int) -> Roi | None:
        """An explicit --roi wins over the profile's overlay exclusions."""
        if self.roi is not None:
            return self.roi
        if self.profile is not None:
            return self.profile.roi_for(source_width, source_height)
        return None


@dataclass(frozen=True)
class Outcome:
    """One file's result record, or the reason it could not be read."""

    path: Path
    record: dict[str, Any]
    error: str | None = None


def cores_available() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def analyze_path(path: Path, settings: BatchSettings) -> dict[str, Any]:
    """Analyse one file; raises ImageLoadError for files that cannot be decoded."""
    loaded = load_image(path)
    roi = settings.region(loaded.source_width, loaded.source_height)
    calibration = settings.calibration(loaded.source_width)
    result = analyze_image(
        loaded.pixels,
        calibration,
        roi,
        source_scale=loaded.source_scale,
        params=AnalysisParams(detector=settings.detector),
    )
    record = result.to_dict(image=str(path))
    if settings.overlay is not None:
        written = save_overlay(
            settings.overlay, path, loaded.pixels, result, loaded.source_scale, roi
        )
        record["overlay"] = str(written)
    return record


def analyze_one(job: tuple[Path, BatchSettings]) -> Outcome:
    """One file of the batch, never raising for a file that cannot be decoded."""
    path, settings = job
    try:
        return Outcome(path, analyze_path(path, settings))
    except ImageLoadError as error:
        return Outcome(path, {"image": str(path), "error": str(error)}, str(error))


def analyze_all(paths: list[Path], settings: BatchSettings, jobs: int) -> Iterator[Outcome]:
    """Every file's outcome, in the order of `paths`, using up to `jobs` processes."""
    work = [(path, settings) for path in paths]
    workers = max(1, min(jobs, len(work)))
    if workers == 1:
        yield from map(analyze_one, work)
        return
    # "spawn": a fresh interpreter per worker, safe whatever threads this process runs
    # (Rich's progress bar refreshes from one); each worker loads NumPy and the models once.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(analyze_one, work)
