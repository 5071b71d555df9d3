"""analyze_image: a trichoscopy image in, hair counts, sizes and units out (pure function)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi

from mesoclinic.imaging.cnn_detector import PEAK_DISTANCE as CNN_PEAK_DISTANCE
from mesoclinic.imaging.cnn_detector import PEAK_THRESHOLD as CNN_PEAK_THRESHOLD
from mesoclinic.imaging.cnn_detector import heat_map, heat_peaks, model_input, shoulder_peaks
from mesoclinic.imaging.detector import ExitModel, bundled_model, find_peaks, score_map
from mesoclinic.imaging.features import FeaturePyramid, block_mean, normalised_channels
from mesoclinic.imaging.hairs import ShaftTrace, trace_shafts
from mesoclinic.imaging.loading import WORK_WIDTH
from mesoclinic.imaging.overlays import find_overlays
from mesoclinic.imaging.quality import QualityLimits, assess_quality
from mesoclinic.imaging.rescoring import (
    DUPLICATE_RADIUS_WORK_PX,
    bundled_rescore_model,
    candidate_features,
    suppress_duplicates,
)
from mesoclinic.imaging.results import (
    ALGORITHM_VERSIONS,
    DEFAULT_DETECTOR,
    Calibration,
    Detector,
    Hair,
    Roi,
    TrichoscopyResult,
)
from mesoclinic.imaging.segmentation import SegmentationParams, ShaftMaps, shaft_maps
from mesoclinic.imaging.units import empty_openings, group_units


@dataclass(frozen=True)
class AnalysisParams:
    """Settings of one analysis run; defaults suit 70x images about 1280 px wide."""

    terminal_threshold_um: float = 40.0
    # Exits of one follicular unit (px of a 1280 px wide 70x image, 0.22 mm): reproduces the
    # FDU labels' single / multi-hair unit classes best (docs/imaging.md, step 6).
    unit_radius_px: float = 80.0
    opening_radius_work_px: float = 8.0
    rescore: bool = True
    # Per-image overlay detection where the region is a profile's fixed cut (Roi flag).
    detect_overlays: bool = True
    detector: Detector = DEFAULT_DETECTOR
    candidate_threshold: float | None = None  # None: the rescoring model's own
    peak_distance: int = CNN_PEAK_DISTANCE  # heat-map local maxima: (2d+1)^2 window
    # Second exits in a stronger peak's flank (cnn_detector.shoulder_peaks); 0: off.
    shoulder_sigma: float = 0.0
    shoulder_gap: float = 3.0
    segmentation: SegmentationParams = field(default_factory=SegmentationParams)
    quality: QualityLimits = field(default_factory=QualityLimits)


def as_rgb(pixels: NDArray[np.generic]) -> NDArray[np.uint8]:
    """uint8 RGB from greyscale, RGB or RGBA input; floats in 0..1 are scaled."""
    array = np.asarray(pixels)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] < 3 or min(array.shape[:2]) < 16:
        raise ValueError(f"expected an HxW or HxWx3 image of at least 16x16, got {array.shape}")
    array = array[..., :3]
    if np.issubdtype(array.dtype, np.floating) and float(np.nanmax(array)) <= 1.0:
        array = array * 255.0
    return np.clip(array, 0, 255).astype(np.uint8)


def to_work_resolution(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    """Resample to about WORK_WIDTH px wide; returns the image and input px per work px."""
    width = rgb.shape[1]
    factor = width / WORK_WIDTH
    if abs(factor - 1.0) < 0.05:
        return rgb, 1.0
    size = (WORK_WIDTH, max(16, round(rgb.shape[0] / factor)))
    resized = Image.fromarray(rgb).resize(size, Image.Resampling.BOX)
    return np.asarray(resized, dtype=np.uint8), width / WORK_WIDTH


def valid_region(shape: tuple[int, int], roi: Roi | None, scale: float) -> NDArray[np.bool_]:
    """Work-grid mask of the region of interest (all pixels when roi is None)."""
    valid = np.zeros(shape, dtype=bool)
    if roi is None:
        valid[:] = True
        return valid
    y0, y1 = max(0, math.ceil(roi.y0 / scale)), min(shape[0], int(roi.y1 / scale))
    x0, x1 = max(0, math.ceil(roi.x0 / scale)), min(shape[1], int(roi.x1 / scale))
    valid[y0:y1, x0:x1] = True
    return valid


def analysed_region(
    work: NDArray[np.uint8], roi: Roi | None, scale: float, params: AnalysisParams
) -> NDArray[np.bool_]:
    """Work-grid mask of the pixels to analyse.

    A profile's fixed overlay cut (roi.detect_overlays) is replaced by the image's own
    overlays (bars cut, in-field overlays masked) when their detection is sure."""
    if roi is not None and roi.detect_overlays and params.detect_overlays:
        overlays = find_overlays(work)
        if overlays.sure:
            return overlays.valid()
    return valid_region(work.shape[:2], roi, scale)


def _to_source(work_points: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """Work-grid (row, col) pixel indices to source (x, y) pixel coordinates."""
    return (work_points[:, ::-1] + 0.5) * scale - 0.5


def detect_exit_points(
    channels: NDArray[np.float32], valid: NDArray[np.bool_], model: ExitModel, threshold: float
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Exit points as work-grid (row, col) and their detector scores.

    channels: normalised_channels of the working image.
    """
    fine = block_mean(channels, 2)
    valid_fine = valid[: 2 * fine.shape[0] : 2, : 2 * fine.shape[1] : 2]
    heat = score_map(FeaturePyramid(fine), fine[..., 0], valid_fine, model)
    peaks = find_peaks(heat, threshold, model.peak_distance)
    scores = ndi.gaussian_filter(heat, 0.7)[
        np.round(peaks[:, 0]).astype(int), np.round(peaks[:, 1]).astype(int)
    ]
    return peaks * 2 + 0.5, scores.astype(np.float32)


def detect_exit_points_cnn(
    work: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    threshold: float,
    peak_distance: int = CNN_PEAK_DISTANCE,
    shoulder_sigma: float = 0.0,
    shoulder_gap: float = 3.0,
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Exit points (work-grid row, col) and scores from the convolutional heat map."""
    heat = heat_map(model_input(work))
    valid_fine = valid[: 2 * heat.shape[0] : 2, : 2 * heat.shape[1] : 2]
    heat = np.where(valid_fine, heat, 0.0).astype(np.float32)
    peaks = heat_peaks(heat, threshold, peak_distance)
    scores = heat[np.round(peaks[:, 0]).astype(int), np.round(peaks[:, 1]).astype(int)]
    if shoulder_sigma > 0:
        extra, extra_scores = shoulder_peaks(heat, peaks, threshold, shoulder_sigma, shoulder_gap)
        peaks = np.concatenate([peaks.reshape(-1, 2), extra])
        scores = np.concatenate([scores, extra_scores])
    return peaks * 2 + 0.5, scores.astype(np.float32)


def candidate_threshold(params: AnalysisParams, model: ExitModel) -> float:
    """Detector score above which peaks become candidates (rescoring keeps some of them)."""
    if params.candidate_threshold is not None:
        return params.candidate_threshold
    if params.rescore:
        return bundled_rescore_model(params.detector).candidate_threshold
    return CNN_PEAK_THRESHOLD if params.detector == "cnn" else model.peak_threshold


@dataclass(frozen=True)
class Candidates:
    """Candidate hairs on the working grid, before the rescoring stage keeps or drops them."""

    exits: NDArray[np.float64]
    scores: NDArray[np.float32]
    traces: tuple[ShaftTrace, ...]
    features: NDArray[np.float64]
    maps: ShaftMaps


def find_candidates(
    work: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    params: AnalysisParams,
    model: ExitModel,
    threshold: float,
) -> Candidates:
    """Detect exit points, trace their shafts and describe each for the rescoring stage."""
    channels = normalised_channels(work)
    if params.detector == "cnn":
        exits, scores = detect_exit_points_cnn(
            work,
            valid,
            threshold,
            params.peak_distance,
            params.shoulder_sigma,
            params.shoulder_gap,
        )
    else:
        exits, scores = detect_exit_points(channels, valid, model, threshold)
    maps = shaft_maps(work, params.segmentation, valid)
    traces = trace_shafts(maps.mask, exits, maps.darkness)
    value, blue = channels[..., 0], channels[..., 1]
    features = candidate_features(
        exits.reshape(-1, 2),
        np.array([t.angle for t in traces], dtype=np.float64),
        np.array([t.length for t in traces], dtype=np.float64),
        np.array([t.width for t in traces], dtype=np.float64),
        scores.astype(np.float64),
        value,
        blue,
        valid,
    )
    return Candidates(exits, scores, traces, features, maps)


def analyze_image(
    pixels: NDArray[np.generic],
    calibration: Calibration | None = None,
    roi: Roi | None = None,
    *,
    source_scale: float = 1.0,
    params: AnalysisParams | None = None,
    model: ExitModel | None = None,
) -> TrichoscopyResult:
    """Detect and measure every hair of one trichoscopy image.

    Coordinates, lengths, widths, roi and calibration are all in source pixels; source_scale
    says how many source pixels one given pixel spans (2.0 for a JPEG decoded at half size).
    """
    params = params or AnalysisParams()
    model = model or bundled_model()
    rescore = bundled_rescore_model(params.detector) if params.rescore else None
    work, factor = to_work_resolution(as_rgb(pixels))
    scale = factor * source_scale
    valid = analysed_region(work, roi, scale, params)
    found = find_candidates(work, valid, params, model, candidate_threshold(params, model))
    keep = np.ones(len(found.exits), dtype=bool)
    probabilities = found.scores.astype(np.float64)
    if rescore is not None and len(found.exits):
        probabilities = rescore.probabilities(found.features)
        keep = suppress_duplicates(
            found.exits, probabilities, probabilities >= rescore.threshold, DUPLICATE_RADIUS_WORK_PX
        )
    hairs = tuple(
        _measure_hair(row, col, trace, float(p), scale, calibration, params)
        for (row, col), trace, p, kept in zip(
            found.exits, found.traces, probabilities, keep, strict=True
        )
        if kept
    )
    points = np.array([[hair.x, hair.y] for hair in hairs], dtype=np.float64).reshape(-1, 2)
    openings = empty_openings(
        found.maps.value, found.maps.mask, valid, points / scale, params.opening_radius_work_px
    )
    area_px = float(valid.sum()) * scale * scale
    return TrichoscopyResult(
        hairs=hairs,
        follicular_units=group_units(points, unit_radius(params, scale)),
        empty_openings=tuple((float(x * scale), float(y * scale)) for x, y in openings),
        quality=assess_quality(work, found.maps, valid, params.quality),
        analysed_area_mm2=None if calibration is None else area_px / calibration.px_per_mm**2,
        calibration=calibration,
        algorithm_version=ALGORITHM_VERSIONS[params.detector]
        + ("" if params.rescore else " without rescoring"),
        terminal_threshold_um=params.terminal_threshold_um,
    )


def unit_radius(params: AnalysisParams, scale: float) -> float:
    """Follicular-unit linkage radius in source px (scale: source px per working px)."""
    return params.unit_radius_px * scale / 2.0


def _measure_hair(
    row: float,
    col: float,
    trace: ShaftTrace,
    score: float,
    scale: float,
    calibration: Calibration | None,
    params: AnalysisParams,
) -> Hair:
    x, y = _to_source(np.array([[row, col]]), scale)[0]
    # A shaft too faint or too short for a width profile has no width, diameter or class.
    width_px = trace.width * scale if trace.width > 0 else None
    diameter = (
        None
        if calibration is None or width_px is None
        else width_px / calibration.px_per_mm * 1000.0
    )
    return Hair(
        x=float(x),
        y=float(y),
        angle_deg=math.degrees(math.atan2(-math.sin(trace.angle), math.cos(trace.angle))) % 360,
        length_px=trace.length * scale,
        width_px=width_px,
        score=score,
        diameter_um=diameter,
        terminal=None if diameter is None else diameter >= params.terminal_threshold_um,
    )
