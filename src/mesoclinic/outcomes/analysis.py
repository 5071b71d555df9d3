"""One trichoscopy image through the landed imaging code: the stored result JSON and the values
that become measurements. Pure apart from reading the image's bytes from the store."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mesoclinic.imaging.loading import WORK_WIDTH, LoadedImage, load_image
from mesoclinic.imaging.profiles import DeviceProfile, ProfileError, get_profile
from mesoclinic.imaging.results import (
    ALGORITHM_VERSION,
    Calibration,
    Detector,
    FollicularUnit,
    Hair,
    Quality,
    Roi,
    TrichoscopyResult,
    known_versions,
)
from mesoclinic.outcomes.imagestore import blob_path
from mesoclinic.outcomes.models import ClinicalImage

if TYPE_CHECKING:  # the detector (SciPy, scikit-image, onnxruntime) loads when a job runs
    from mesoclinic.imaging.analysis import AnalysisParams

CURRENT_VERSION = ALGORITHM_VERSION


class AnalysisError(ValueError):
    """Work that cannot be done (unknown version, unreadable image): the job fails with this."""


@dataclass(frozen=True)
class Outcome:
    """What one job produced: the result JSON and (kind code, value) pairs to store."""

    result: dict[str, Any]
    values: list[tuple[str, float]] = field(default_factory=list)


def detector_for(version: str) -> Detector:
    versions = known_versions()
    if version not in versions:
        raise AnalysisError(
            f"unknown algorithm version {version!r}; this build runs: {', '.join(versions)}"
        )
    return versions[version]


def profile_of(image: ClinicalImage) -> DeviceProfile | None:
    if not image.device_profile:
        return None
    try:
        return get_profile(image.device_profile)
    except ProfileError as error:
        raise AnalysisError(str(error)) from error


def load_pixels(
    images_dir: Path, image: ClinicalImage, max_pixels: int, *, reduce: bool = True
) -> LoadedImage:
    """The image's stored bytes decoded; JPEGs at a reduced scale unless reduce is False."""
    path = blob_path(images_dir, image.blob_sha256)
    try:
        if not reduce:
            return load_image(path, max_pixels=max_pixels, reduce_to_width=None)
        return load_image(path, max_pixels=max_pixels)
    except ValueError as error:  # ImageLoadError: unreadable or missing bytes
        raise AnalysisError(f"image {image.id}: {error}") from error


@dataclass(frozen=True)
class Prepared:
    """An image decoded with its device's calibration and region of interest."""

    loaded: LoadedImage
    calibration: Calibration | None
    roi: Roi | None
    params: AnalysisParams


def prepare(images_dir: Path, image: ClinicalImage, version: str, max_pixels: int) -> Prepared:
    from mesoclinic.imaging.analysis import AnalysisParams

    params = AnalysisParams(detector=detector_for(version))
    loaded = load_pixels(images_dir, image, max_pixels)
    profile = profile_of(image)
    calibration = profile.calibration_for(loaded.source_width) if profile else None
    roi = profile.roi_for(loaded.source_width, loaded.source_height) if profile else None
    return Prepared(loaded, calibration, roi, params)


def analyse(prepared: Prepared) -> TrichoscopyResult:
    from mesoclinic.imaging.analysis import analyze_image

    return analyze_image(
        prepared.loaded.pixels,
        prepared.calibration,
        prepared.roi,
        source_scale=prepared.loaded.source_scale,
        params=prepared.params,
    )


def count(images_dir: Path, image: ClinicalImage, version: str, max_pixels: int) -> Outcome:
    """COUNT job: every hair, unit and quality flag of one image, and its summary figures."""
    prepared = prepare(images_dir, image, version, max_pixels)
    result = analyse(prepared)
    record = result_json(result, prepared)
    return Outcome(record, count_values(result))


def shaft_point(hair: Hair) -> tuple[float, float]:
    """Where the visible shaft ends: from the exit along its direction (y grows downwards)."""
    angle = math.radians(hair.angle_deg)
    return (
        hair.x + hair.length_px * math.cos(angle),
        hair.y - hair.length_px * math.sin(angle),
    )


def _unit_ids(result: TrichoscopyResult, prepared: Prepared) -> list[int]:
    """Per hair, the follicular unit it belongs to (same linkage as the analysis itself)."""
    import numpy as np

    from mesoclinic.imaging.units import unit_labels

    width = prepared.loaded.pixels.shape[1]
    factor = 1.0 if abs(width / WORK_WIDTH - 1.0) < 0.05 else width / WORK_WIDTH
    scale = factor * prepared.loaded.source_scale
    points = np.array([[h.x, h.y] for h in result.hairs], dtype=np.float64).reshape(-1, 2)
    radius = prepared.params.unit_radius_px * scale / 2.0
    return [int(label) for label in unit_labels(points, radius)]


def result_json(result: TrichoscopyResult, prepared: Prepared) -> dict[str, Any]:
    """The stored result: every detected hair (exit and shaft point, width, class, unit), the
    quality flags, the calibration used and the summary the measurements come from."""
    units = _unit_ids(result, prepared)
    calibration = prepared.calibration
    roi = prepared.roi
    hairs = []
    for index, (hair, unit) in enumerate(zip(result.hairs, units, strict=True)):
        sx, sy = shaft_point(hair)
        hairs.append(
            {
                "index": index,
                "exit": [round(hair.x, 1), round(hair.y, 1)],
                "shaft": [round(sx, 1), round(sy, 1)],
                "angle_deg": round(hair.angle_deg, 1),
                "length_px": round(hair.length_px, 1),
                "width_px": None if hair.width_px is None else round(hair.width_px, 2),
                "diameter_um": None if hair.diameter_um is None else round(hair.diameter_um, 1),
                "terminal": hair.terminal,
                "unit": unit,
                "score": round(hair.score, 3),
            }
        )
    summary = result.to_dict()
    summary.pop("hairs")
    summary.pop("image")
    summary["follicular_unit_count"] = len(result.follicular_units)
    return {
        "kind": "count",
        "algorithm_version": result.algorithm_version,
        "image_width": prepared.loaded.source_width,
        "image_height": prepared.loaded.source_height,
        "calibrated": calibration is not None,
        "calibration": None
        if calibration is None
        else {
            "px_per_mm": round(calibration.px_per_mm, 3),
            "assumed": calibration.assumed,
            "source": calibration.source,
        },
        "roi": None if roi is None else [roi.x0, roi.y0, roi.x1, roi.y1],
        "hairs": hairs,
        "units": [
            {"x": round(u.x, 1), "y": round(u.y, 1), "hair_count": u.hair_count}
            for u in result.follicular_units
        ],
        "empty_openings": [[round(x, 1), round(y, 1)] for x, y in result.empty_openings],
        "quality": result.quality.to_dict(),
        "summary": summary,
    }


def count_values(result: TrichoscopyResult) -> list[tuple[str, float]]:
    """Measurement values of one count; densities and diameters only with a calibration."""
    values: list[tuple[str, float]] = [("hair_count", float(result.hair_count))]
    area_cm2 = (result.analysed_area_mm2 or 0.0) / 100.0
    if area_cm2 > 0:
        values.append(("density_total", result.hair_count / area_cm2))
        if result.terminal_count is not None:
            values.append(("density_terminal", result.terminal_count / area_cm2))
        if result.vellus_count is not None:
            values.append(("density_vellus", result.vellus_count / area_cm2))
        values.append(("follicular_unit_density", len(result.follicular_units) / area_cm2))
    if result.mean_diameter_um is not None:
        values.append(("mean_shaft_diameter", result.mean_diameter_um))
    if result.cumulative_thickness_mm_per_cm2 is not None:
        values.append(("cumulative_thickness", result.cumulative_thickness_mm_per_cm2))
    if result.terminal_count is not None and result.vellus_count:
        values.append(("terminal_vellus_ratio", result.terminal_count / result.vellus_count))
    if result.follicular_units:
        values.append(
            ("hairs_per_follicular_unit", result.hair_count / len(result.follicular_units))
        )
    return [(code, round(value, 3)) for code, value in values]


def result_from_json(record: dict[str, Any], removed: set[int] | None = None) -> TrichoscopyResult:
    """A TrichoscopyResult rebuilt from a stored count (for the overlay), minus removed hairs."""
    removed = removed or set()
    hairs = tuple(
        Hair(
            x=h["exit"][0],
            y=h["exit"][1],
            angle_deg=h["angle_deg"],
            length_px=h["length_px"],
            width_px=h["width_px"],
            score=h["score"],
            diameter_um=h["diameter_um"],
            terminal=h["terminal"],
        )
        for h in record.get("hairs", [])
        if h["index"] not in removed
    )
    units = tuple(FollicularUnit(u["x"], u["y"], u["hair_count"]) for u in record.get("units", []))
    quality = record.get("quality") or {}
    return TrichoscopyResult(
        hairs=hairs,
        follicular_units=units,
        empty_openings=tuple((p[0], p[1]) for p in record.get("empty_openings", [])),
        quality=Quality(
            quality.get("sharpness", 0.0),
            quality.get("overexposed_fraction", 0.0),
            quality.get("skin_fraction", 0.0),
            tuple(quality.get("flags", ())),
        ),
        analysed_area_mm2=None,
        calibration=None,
        algorithm_version=record.get("algorithm_version", ""),
    )


def added_hair(exit_x: float, exit_y: float, shaft_x: float, shaft_y: float) -> Hair:
    """A hair a reviewer drew: exit point and a point along its shaft."""
    dx, dy = shaft_x - exit_x, shaft_y - exit_y
    return Hair(
        x=exit_x,
        y=exit_y,
        angle_deg=math.degrees(math.atan2(-dy, dx)) % 360,
        length_px=math.hypot(dx, dy),
        width_px=None,
        score=1.0,
    )
