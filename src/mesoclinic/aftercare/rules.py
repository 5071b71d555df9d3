"""Pure aftercare rules: precaution windows around a session and conflicts with declared events.

No I/O: plain values in, plain values out. Datetimes are timezone-aware; declared events are whole
clinic-local days (an event on 12 March occupies 00:00-24:00 of 12 March in the clinic's zone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mesoclinic.aftercare.rulebook import AftercareRulebook, Duration, Precaution
from mesoclinic.findings import Finding

SEARCH_DAYS = 366  # how far either side of the requested date a safe date is looked for


@dataclass(frozen=True)
class PrecautionWindow:
    """One precaution with the interval [starts_at, ends_at) it applies to (UTC)."""

    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    instruction: str
    source: str
    relation: str

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True)
class DeclaredEventSpan:
    """A patient-declared event as plain values (inclusive local dates)."""

    kind: str
    starts_on: date
    ends_on: date
    label: str = ""


@dataclass(frozen=True)
class PrecautionConflict(Finding):
    """A declared event inside a precaution window, with the nearest session date avoiding it."""

    code: str = ""
    event_kind: str = ""
    event_starts_on: date | None = None
    event_ends_on: date | None = None
    suggested_date: date | None = None


def precaution_windows(
    session_start: datetime, clinic_tz: str, rulebook: AftercareRulebook
) -> list[PrecautionWindow]:
    """Every precaution of the rulebook as a concrete window around one session."""
    if session_start.tzinfo is None or session_start.utcoffset() is None:
        raise ValueError("session_start must be timezone-aware")
    tz = ZoneInfo(clinic_tz)
    start = session_start.astimezone(UTC)
    return [_window(p, start, tz) for p in rulebook.precautions]


def _window(precaution: Precaution, start: datetime, tz: ZoneInfo) -> PrecautionWindow:
    before, after = _extent(precaution.duration, start, tz)
    begins = start - before if precaution.relation in ("before", "around") else start
    ends = start + after if precaution.relation in ("after", "around") else start
    return PrecautionWindow(
        precaution.code,
        precaution.title,
        begins,
        ends,
        precaution.instruction,
        precaution.source,
        precaution.relation,
    )


def _extent(duration: Duration, start: datetime, tz: ZoneInfo) -> tuple[timedelta, timedelta]:
    """The window's length before and after the session (equal unless clock-time based)."""
    if duration.hours is not None:
        return timedelta(hours=duration.hours), timedelta(hours=duration.hours)
    if duration.days is not None:
        return timedelta(days=duration.days), timedelta(days=duration.days)
    assert duration.until_local_time is not None
    local_day = start.astimezone(tz).date() + timedelta(days=1)
    next_morning = _local_instant(local_day, duration.until_local_time, tz)
    minimum = start + timedelta(hours=duration.at_least_hours or 0)
    # "Until next morning" but never shorter than the minimum: a late session runs longer.
    return timedelta(0), max(next_morning, minimum) - start


def _local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def event_interval(event: DeclaredEventSpan, clinic_tz: str) -> tuple[datetime, datetime]:
    """The UTC interval covered by an event's local days, end exclusive."""
    tz = ZoneInfo(clinic_tz)
    return (
        _local_instant(event.starts_on, time(0), tz),
        _local_instant(event.ends_on + timedelta(days=1), time(0), tz),
    )


def overlapping(
    windows: Sequence[PrecautionWindow],
    events: Sequence[DeclaredEventSpan],
    clinic_tz: str,
    rulebook: AftercareRulebook,
) -> list[tuple[PrecautionWindow, DeclaredEventSpan]]:
    """Pairs of (window, event) where the event's kind is forbidden and the times overlap."""
    pairs = []
    for window in windows:
        precaution = rulebook.by_code(window.code)
        kinds = precaution.conflicting_events if precaution else []
        for event in events:
            if event.kind not in kinds:
                continue
            ev_start, ev_end = event_interval(event, clinic_tz)
            if ev_start < window.ends_at and window.starts_at < ev_end:
                pairs.append((window, event))
    return pairs


def is_safe(
    session_start: datetime,
    events: Sequence[DeclaredEventSpan],
    clinic_tz: str,
    rulebook: AftercareRulebook,
) -> bool:
    """True when no declared event falls inside any window of a session at this time."""
    windows = precaution_windows(session_start, clinic_tz, rulebook)
    return not overlapping(windows, events, clinic_tz, rulebook)


def moved_to(session_start: datetime, day: date, clinic_tz: str) -> datetime:
    """The same clinic-local clock time as `session_start`, on another day."""
    tz = ZoneInfo(clinic_tz)
    local = session_start.astimezone(tz)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


def nearest_safe_date(
    session_start: datetime,
    events: Sequence[DeclaredEventSpan],
    clinic_tz: str,
    rulebook: AftercareRulebook,
    earliest: date | None = None,
    bookable: Callable[[date], bool] | None = None,
) -> date | None:
    """The nearest day (same clock time) with no conflict; on a tie the later day wins.

    Later wins because postponing leaves time to stop supplements and finish the event; days
    before `earliest` (usually today) and days `bookable` rejects (clinic closed) are never
    suggested. None when nothing within a year works.
    """
    requested = session_start.astimezone(ZoneInfo(clinic_tz)).date()
    for offset in range(0, SEARCH_DAYS + 1):
        for day in (requested + timedelta(days=offset), requested - timedelta(days=offset)):
            if (earliest is not None and day < earliest) or (bookable and not bookable(day)):
                continue
            if is_safe(moved_to(session_start, day, clinic_tz), events, clinic_tz, rulebook):
                return day
    return None


def conflicts(
    session_start: datetime,
    events: Sequence[DeclaredEventSpan],
    clinic_tz: str,
    rulebook: AftercareRulebook,
    earliest: date | None = None,
    bookable: Callable[[date], bool] | None = None,
) -> list[PrecautionConflict]:
    """A warning per declared event inside a precaution window, each with a suggested date."""
    windows = precaution_windows(session_start, clinic_tz, rulebook)
    pairs = overlapping(windows, events, clinic_tz, rulebook)
    if not pairs:
        return []
    suggestion = nearest_safe_date(session_start, events, clinic_tz, rulebook, earliest, bookable)
    return [_finding(window, event, suggestion, clinic_tz) for window, event in pairs]


def _finding(
    window: PrecautionWindow, event: DeclaredEventSpan, suggestion: date | None, clinic_tz: str
) -> PrecautionConflict:
    tz = ZoneInfo(clinic_tz)
    what = event.label or event.kind.replace("_", " ")
    when = (
        event.starts_on.isoformat()
        if event.starts_on == event.ends_on
        else f"{event.starts_on.isoformat()} to {event.ends_on.isoformat()}"
    )
    span = (
        f"{window.starts_at.astimezone(tz):%a %d %b %H:%M} - "
        f"{window.ends_at.astimezone(tz):%a %d %b %H:%M}"
    )
    advice = (
        f" Nearest date without a conflict: {suggestion.isoformat()}."
        if suggestion
        else " No conflict-free date within a year."
    )
    reason = f"Declared {what} ({when}) falls inside '{window.title}' ({span}).{advice}"
    return PrecautionConflict(
        rule_id=f"aftercare.{window.code}",
        severity="warning",
        reason=reason,
        source=window.source,
        code=window.code,
        event_kind=event.kind,
        event_starts_on=event.starts_on,
        event_ends_on=event.ends_on,
        suggested_date=suggestion,
    )
