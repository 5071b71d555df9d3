"""Measure each hair from its exit point: shaft direction, visible length and shaft width."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

ANGLE_STEPS = 48
MAX_GAP = 3
MAX_LENGTH = 320
MAX_HALF_WIDTH = 20
PROFILE_STEP = 0.5  # px between samples of a width profile
CENTRE_SLACK = 4.0  # px: the darkest point across the shaft is sought this far from the trace
MIN_PEAK = 0.1  # a profile must be at least this dark at its peak to give a width


@dataclass(frozen=True)
class ShaftTrace:
    """Direction (radians, image x right / y down), visible length and width (working px)."""

    angle: float
    length: float
    width: float


def _run_lengths(
    mask: NDArray[np.bool_],
    rows0: NDArray[np.float64],
    cols0: NDArray[np.float64],
    angles: NDArray[np.float64],
) -> NDArray[np.int64]:
    """(points, directions) steps along each direction that stay on the shaft mask from each
    point, bridging gaps up to MAX_GAP. angles: (directions,) or (points, directions)."""
    steps = np.arange(1, MAX_LENGTH)
    angles = np.broadcast_to(angles, (len(rows0),) + np.shape(angles)[-1:])
    rows = np.round(rows0[:, None, None] + np.sin(angles)[..., None] * steps).astype(np.int64)
    cols = np.round(cols0[:, None, None] + np.cos(angles)[..., None] * steps).astype(np.int64)
    inside = (rows >= 0) & (rows < mask.shape[0]) & (cols >= 0) & (cols < mask.shape[1])
    on = np.zeros(rows.shape, dtype=bool)
    on[inside] = mask[rows[inside], cols[inside]]
    # A gap of more than MAX_GAP off-pixels ends the run.
    off = (~on).astype(np.int32)
    window: NDArray[np.int64] = np.cumsum(np.pad(off, ((0, 0), (0, 0), (1, 0))), axis=2)
    gap = window[..., MAX_GAP + 1 :] - window[..., : -(MAX_GAP + 1)] == MAX_GAP + 1
    samples = int(steps.size)
    first_gap = np.where(gap.any(axis=2), gap.argmax(axis=2), samples)
    before = np.arange(samples) < first_gap[..., None]
    last_on = np.where(on & before, steps, 0).max(axis=2)
    return np.asarray(last_on, dtype=np.int64)


def trace_shafts(
    mask: NDArray[np.bool_],
    exits: NDArray[np.float64],
    darkness: NDArray[np.floating] | None = None,
) -> tuple[ShaftTrace, ...]:
    """Find the direction of longest shaft run from each exit point (row, col) and measure
    along it.

    The exit point lies at one end of its shaft, so the longest run of shaft pixels leaving it
    follows the hair. The width is the full width at half maximum of profiles across the
    shaft through darkness (relative darkness of the unsmoothed image; the mask itself when
    None, which gives the run length of shaft pixels). All points are traced at once.
    """
    exits = np.asarray(exits, dtype=np.float64).reshape(-1, 2)
    if len(exits) == 0:
        return ()
    rows, cols = exits[:, 0], exits[:, 1]
    # Coarse to fine: every other direction first, then the two neighbours of the best.
    coarse = 2 * np.pi * np.arange(0, ANGLE_STEPS, 2) / ANGLE_STEPS
    coarse_lengths = _run_lengths(mask, rows, cols, coarse)
    best = np.argmax(coarse_lengths, axis=1) * 2
    fine = 2 * np.pi * np.stack([best - 1, best + 1], axis=1) / ANGLE_STEPS
    fine_lengths = _run_lengths(mask, rows, cols, fine)
    angles = np.concatenate([coarse[best // 2][:, None], fine], axis=1)
    lengths = np.concatenate(
        [np.take_along_axis(coarse_lengths, best[:, None] // 2, 1), fine_lengths], 1
    )
    pick = np.argmax(lengths, axis=1)
    chosen_angles = np.take_along_axis(angles, pick[:, None], 1)[:, 0] % (2 * np.pi)
    chosen_lengths = np.take_along_axis(lengths, pick[:, None], 1)[:, 0].astype(np.float64)
    profile = mask.astype(np.float32) if darkness is None else darkness
    widths = _widths(profile, rows, cols, chosen_angles, chosen_lengths)
    return tuple(
        ShaftTrace(float(a), float(n), float(w))
        for a, n, w in zip(chosen_angles, chosen_lengths, widths, strict=True)
    )


def trace_shaft(
    mask: NDArray[np.bool_],
    row: float,
    col: float,
    darkness: NDArray[np.floating] | None = None,
) -> ShaftTrace:
    """trace_shafts for one exit point."""
    return trace_shafts(mask, np.array([[row, col]]), darkness)[0]


def _widths(
    profile: NDArray[np.floating],
    rows: NDArray[np.float64],
    cols: NDArray[np.float64],
    angles: NDArray[np.float64],
    lengths: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Per shaft: median full width at half maximum of profile across the shaft, at seven
    points over the middle half of its visible length (0 when no profile qualifies)."""
    fractions = np.linspace(0.25, 0.75, 7)
    along = lengths[:, None] * fractions[None, :]
    d_row, d_col = np.sin(angles)[:, None], np.cos(angles)[:, None]
    widths = widths_across(
        profile,
        (rows[:, None] + along * d_row).ravel(),
        (cols[:, None] + along * d_col).ravel(),
        np.repeat(angles, fractions.size),
    ).reshape(len(rows), fractions.size)
    widths[lengths < 2] = np.nan
    measured = ~np.isnan(widths).all(axis=1)
    result = np.zeros(len(rows), dtype=np.float64)
    result[measured] = np.nanmedian(widths[measured], axis=1)
    return result


def widths_across(
    profile: NDArray[np.floating],
    rows: NDArray[np.float64],
    cols: NDArray[np.float64],
    angles: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Full width at half maximum (px) of profile across a shaft running at angle (radians,
    y down) through each point (row, col); NaN where the profile is too faint or does not
    fall to half on both sides within MAX_HALF_WIDTH."""
    across = np.arange(-MAX_HALF_WIDTH, MAX_HALF_WIDTH + PROFILE_STEP / 2, PROFILE_STEP)
    d_row, d_col = np.sin(angles)[:, None], np.cos(angles)[:, None]
    sample_rows = rows[:, None] + across[None, :] * d_col
    sample_cols = cols[:, None] - across[None, :] * d_row
    values = ndi.map_coordinates(
        np.asarray(profile, dtype=np.float32), [sample_rows, sample_cols], order=1, mode="constant"
    ).reshape(len(rows), across.size)
    return _half_maximum_widths(values) * PROFILE_STEP


def _half_maximum_widths(values: NDArray[np.float32]) -> NDArray[np.float64]:
    """Per profile (row of samples, centre sample = trace): distance in samples between the
    half-maximum crossings either side of the darkest sample near the centre, interpolated;
    NaN when the peak is too faint or a side never drops below half."""
    count = values.shape[1]
    centre = count // 2
    slack = int(round(CENTRE_SLACK / PROFILE_STEP))
    rows = np.arange(len(values))
    peak_at = values[:, centre - slack : centre + slack + 1].argmax(axis=1) + centre - slack
    peak = values[rows, peak_at]
    half = peak / 2
    index = np.arange(count)[None, :]
    below = values < half[:, None]
    left = np.where(below & (index < peak_at[:, None]), index, -1).max(axis=1)
    right = np.where(below & (index > peak_at[:, None]), index, count).min(axis=1)
    ok = (left >= 0) & (right < count) & (peak >= MIN_PEAK)
    left_c, right_c = np.clip(left, 0, count - 2), np.clip(right, 1, count - 1)
    # Crossings between the last sample below half and the first one at or above it.
    left_x = left_c + (half - values[rows, left_c]) / np.maximum(
        values[rows, left_c + 1] - values[rows, left_c], 1e-9
    )
    right_x = right_c - (half - values[rows, right_c]) / np.maximum(
        values[rows, right_c - 1] - values[rows, right_c], 1e-9
    )
    return np.where(ok, right_x - left_x, np.nan).astype(np.float64)
