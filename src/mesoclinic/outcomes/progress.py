"""Progress of one measure at one site: baseline, change from it, sessions received in between
and how much of the change the measurement's own error could explain. Plain values in and out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BaselineRule(StrEnum):
    """Which value the change is measured from."""

    LAST_BEFORE_FIRST_SESSION = "last-before-first-session"  # the default
    FIRST_MEASUREMENT = "first-measurement"


@dataclass(frozen=True)
class Reading:
    """One current (not voided, not superseded) value of one kind at one site."""

    id: str
    measured_at: datetime
    value: float
    source: str = "manual"  # manual | device | image-analysis


@dataclass(frozen=True)
class SessionGiven:
    """A completed treatment session from the visit record."""

    performed_at: datetime
    cocktail: str
    prp: bool = False


@dataclass(frozen=True)
class Change:
    absolute: float
    percent: float | None  # None when the baseline is zero
    uncertainty: float | None  # one standard error of the change, in the measure's unit


@dataclass(frozen=True)
class ProgressPoint:
    reading: Reading
    is_baseline: bool
    change: Change | None  # None for the baseline and when there is none
    days_since_first_session: int | None  # negative before it; None without sessions
    sessions_since_previous: tuple[SessionGiven, ...]  # given after the previous value
    sessions_so_far: int  # sessions given up to this value
    uncertainty: float | None  # of this value alone


@dataclass(frozen=True)
class Series:
    kind: str
    baseline: Reading | None
    baseline_note: str  # why this baseline, or why there is none, in plain words
    first_session: SessionGiven | None
    points: tuple[ProgressPoint, ...]  # oldest first

    @property
    def latest(self) -> ProgressPoint | None:
        return self.points[-1] if self.points else None


# Relative error of one value (a fraction of the value), by kind and how it was measured.
# Image analysis: this software's mean relative count error on held-out images (docs/imaging.md,
# 15 %). Device: TrichoScan's published automatic counting error (~9 %, docs/clinical-sources.md
# #measurement-quality). Hand counts of shed hairs are treated as Poisson counts (sqrt(n)).
RELATIVE_ERROR: dict[tuple[str, str], float] = {
    (kind, source): error
    for kind in ("hair_count", "density_total", "density_terminal", "density_vellus")
    for source, error in (("image-analysis", 0.15), ("device", 0.09))
}
POISSON_KINDS = frozenset({"comb_count_60s", "wash_count", "pull_test"})


def value_uncertainty(kind: str, source: str, value: float) -> float | None:
    """One standard error of a single value, or None where we know of no figure."""
    if kind in POISSON_KINDS:
        return math.sqrt(max(value, 0.0))
    error = RELATIVE_ERROR.get((kind, source))
    return abs(value) * error if error is not None else None


def change_from(baseline: float, value: float) -> tuple[float, float | None]:
    """(value - baseline, the same as a percentage of the baseline, None if it is zero)."""
    absolute = value - baseline
    percent = absolute / abs(baseline) * 100 if baseline != 0 else None
    return absolute, percent


def _combined(a: float | None, b: float | None) -> float | None:
    return math.hypot(a, b) if a is not None and b is not None else None


def pick_baseline(
    readings: Sequence[Reading], first_session: datetime | None, rule: BaselineRule
) -> tuple[Reading | None, str]:
    """The baseline of time-ordered readings and why it was chosen (or why there is none)."""
    if not readings:
        return None, "no values yet"
    if rule is BaselineRule.FIRST_MEASUREMENT:
        return readings[0], "the first value"
    if first_session is None:
        return readings[0], "the first value (no session given yet)"
    before = [r for r in readings if r.measured_at <= first_session]
    if not before:
        return None, "no value was measured before the first session"
    return before[-1], "the last value before the first session"


def build_series(
    kind: str,
    readings: Iterable[Reading],
    sessions: Iterable[SessionGiven],
    rule: BaselineRule = BaselineRule.LAST_BEFORE_FIRST_SESSION,
) -> Series:
    """Every reading with its change from the baseline and the sessions given before it."""
    ordered = sorted(readings, key=lambda r: (r.measured_at, r.id))
    given = sorted(sessions, key=lambda s: s.performed_at)
    first = given[0] if given else None
    baseline, note = pick_baseline(ordered, first.performed_at if first else None, rule)
    base_error = value_uncertainty(kind, baseline.source, baseline.value) if baseline else None
    points: list[ProgressPoint] = []
    previous: datetime | None = None
    for reading in ordered:
        error = value_uncertainty(kind, reading.source, reading.value)
        is_baseline = baseline is not None and reading.id == baseline.id
        change = None
        if baseline is not None and not is_baseline and reading.measured_at >= baseline.measured_at:
            absolute, percent = change_from(baseline.value, reading.value)
            change = Change(absolute, percent, _combined(base_error, error))
        between = tuple(
            s
            for s in given
            if (previous is None or s.performed_at > previous)
            and s.performed_at <= reading.measured_at
        )
        days = (reading.measured_at - first.performed_at).days if first else None
        so_far = sum(1 for s in given if s.performed_at <= reading.measured_at)
        points.append(ProgressPoint(reading, is_baseline, change, days, between, so_far, error))
        previous = reading.measured_at
    return Series(kind, baseline, note, first, tuple(points))


def months_between(start: datetime, end: datetime) -> float:
    """Elapsed months (of 30.44 days), as clinicians count "at 3 months"."""
    return (end - start).total_seconds() / 86400 / 30.44


def error_words(change: Change) -> str:
    """How far measurement error could explain a change, in words a patient can read."""
    if change.uncertainty is None or change.uncertainty == 0:
        return "no figure for this measurement's error is known"
    ratio = abs(change.absolute) / change.uncertainty
    if ratio <= 1:
        return "within the range measurement error alone could explain"
    if ratio <= 2:
        return "within the range where measurement error could explain part of it"
    return "larger than measurement error alone would explain"
