"""Anagen/telogen: follow each hair of a clipped site across two images days apart.

Hairs in anagen grow about 0.3 mm a day; telogen hairs do not. Two images of the same clipped
site 2-3 days apart are registered (translation: phase correlation as a hint, then the shift
most exit points agree on), hairs are paired by exit point, and a hair whose visible length
grew by at least the minimum growth is anagen. A hair of the first image with no partner in
the second was shed and counts as telogen.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from skimage.registration import phase_cross_correlation

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image, as_rgb, to_work_resolution
from mesoclinic.imaging.matching import match_points
from mesoclinic.imaging.results import (
    Calibration,
    GrowthResult,
    HairGrowth,
    Roi,
    TrichoscopyResult,
)
from mesoclinic.imaging.segmentation import shaft_intensity

GROWTH_MM_PER_DAY = 0.3
PAIR_RADIUS_PX = 30.0
INLIER_PX = 12.0
FALLBACK_MIN_GROWTH_PX = 40.0  # ~0.15 mm on a 1280 px wide 70x image


def register_shift(before: NDArray[np.generic], after: NDArray[np.generic]) -> tuple[float, float]:
    """Translation (dx, dy) in input pixels that maps points of `before` onto `after`."""
    work_before, factor = to_work_resolution(as_rgb(before))
    work_after, _ = to_work_resolution(as_rgb(after))
    if work_before.shape != work_after.shape:
        raise ValueError("the two images must have the same size")
    shift, _, _ = phase_cross_correlation(  # type: ignore[no-untyped-call]
        shaft_intensity(work_after), shaft_intensity(work_before), upsample_factor=4
    )
    return float(shift[1]) * factor, float(shift[0]) * factor


def register_exit_points(
    before: TrichoscopyResult, after: TrichoscopyResult, hint: tuple[float, float]
) -> tuple[float, float]:
    """The shift on which most exit points agree (follicles do not move, shafts grow).

    Every pairwise displacement is a candidate, as is the image-correlation hint; the one
    with most exit points landing within INLIER_PX of a partner wins, refined by averaging.
    """
    first = np.array([[h.x, h.y] for h in before.hairs]).reshape(-1, 2)
    second = np.array([[h.x, h.y] for h in after.hairs]).reshape(-1, 2)
    if len(first) == 0 or len(second) == 0:
        return hint
    candidates = (second[None, :, :] - first[:, None, :]).reshape(-1, 2)
    candidates = np.vstack([np.asarray(hint, dtype=np.float64)[None, :], candidates])
    best, best_inliers = np.asarray(hint, dtype=np.float64), -1
    for candidate in candidates:
        moved = first + candidate
        gaps = np.linalg.norm(moved[:, None, :] - second[None, :, :], axis=2)
        inliers = int((gaps.min(axis=1) <= INLIER_PX).sum())
        if inliers > best_inliers:
            best, best_inliers = candidate, inliers
    moved = first + best
    gaps = np.linalg.norm(moved[:, None, :] - second[None, :, :], axis=2)
    close = gaps.min(axis=1) <= INLIER_PX
    partners = second[gaps.argmin(axis=1)]
    refined = (partners[close] - first[close]).mean(axis=0) if close.any() else best
    return float(refined[0]), float(refined[1])


def min_growth_px(days: float, calibration: Calibration | None, fallback_px: float) -> float:
    """Half the expected anagen growth over the interval, in source pixels."""
    if calibration is None:
        return fallback_px
    return 0.5 * GROWTH_MM_PER_DAY * days * calibration.px_per_mm


def classify_growth(
    before: TrichoscopyResult,
    after: TrichoscopyResult,
    shift: tuple[float, float],
    min_growth: float,
) -> GrowthResult:
    """Pair hairs by exit point after the shift and call each anagen or telogen."""
    first = np.array([[h.x + shift[0], h.y + shift[1]] for h in before.hairs]).reshape(-1, 2)
    second = np.array([[h.x, h.y] for h in after.hairs]).reshape(-1, 2)
    pairs = match_points(first, second, PAIR_RADIUS_PX)
    followed = tuple(
        HairGrowth(
            x=after.hairs[c].x,
            y=after.hairs[c].y,
            length_before_px=before.hairs[r].length_px,
            length_after_px=after.hairs[c].length_px,
            anagen=after.hairs[c].length_px - before.hairs[r].length_px >= min_growth,
        )
        for r, c in pairs
    )
    return GrowthResult(
        shift_x_px=shift[0],
        shift_y_px=shift[1],
        hairs=followed,
        unmatched_before=len(first) - len(pairs),
        min_growth_px=min_growth,
        algorithm_version=before.algorithm_version,
    )


def analyze_growth(
    before: NDArray[np.generic],
    after: NDArray[np.generic],
    days: float,
    calibration: Calibration | None = None,
    roi: Roi | None = None,
    params: AnalysisParams | None = None,
) -> GrowthResult:
    """Register two images of one clipped site and report each hair as anagen or telogen."""
    first = analyze_image(before, calibration, roi, params=params)
    second = analyze_image(after, calibration, roi, params=params)
    shift = register_exit_points(first, second, register_shift(before, after))
    return classify_growth(
        first,
        second,
        shift,
        min_growth_px(days, calibration, FALLBACK_MIN_GROWTH_PX),
    )
