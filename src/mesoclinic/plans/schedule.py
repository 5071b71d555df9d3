"""Plan generation and rescheduling: pure functions from a protocol and the clinic calendar.

Each session is placed relative to the previous session's actual date: nominal target =
previous date + the protocol interval, allowed window = [target - window_before,
target + window_after]. The session goes on the open day nearest the target (later wins a tie,
since a late session never breaks the minimum interval). The minimum gap between two sessions
is therefore interval - window_before, whatever moves happen later.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from mesoclinic.errors import InvalidInput
from mesoclinic.plans.protocols import Protocol


@dataclass(frozen=True)
class SessionSpec:
    """What the protocol says about one session, before any date is chosen."""

    sequence: int
    phase: str
    gap_days: int  # nominal days after the previous session (0 for the first)
    window_before: int
    window_after: int
    includes_prp: bool


@dataclass(frozen=True)
class PlannedSession:
    """A dated session of a plan (clinic-local dates)."""

    sequence: int
    phase: str
    planned_date: date
    window_start: date
    window_end: date
    min_gap_days: int
    includes_prp: bool


class ScheduleError(InvalidInput):
    """No valid date exists, or a requested date breaks an interval or falls on a closed day."""

    def __init__(
        self, message: str, field: str | None = None, window: tuple[date, date] | None = None
    ) -> None:
        super().__init__(message, field, "schedule")
        if window:
            self.extra["window"] = [window[0].isoformat(), window[1].isoformat()]
        self.window = window


def is_open(day: date, opening_days: frozenset[int], closures: frozenset[date]) -> bool:
    """Whether the clinic opens on `day` (weekday 0 = Monday)."""
    return day.weekday() in opening_days and day not in closures


def session_specs(protocol: Protocol) -> list[SessionSpec]:
    """The protocol's sessions in order, with their nominal gaps, windows and PRP marks."""
    specs: list[SessionSpec] = []
    for phase in protocol.phases:
        for number, gap in enumerate(phase.gaps(), start=1):
            specs.append(
                SessionSpec(
                    sequence=len(specs) + 1,
                    phase=phase.name,
                    gap_days=0 if not specs else gap,
                    window_before=phase.window_before,
                    window_after=phase.window_after,
                    includes_prp=number in phase.prp_sessions,
                )
            )
    return specs


def generate_sessions(
    protocol: Protocol, start_date: date, opening_days: frozenset[int], closures: frozenset[date]
) -> list[PlannedSession]:
    """Dated sessions for a protocol from `start_date`, skipping closed days."""
    _check_calendar(opening_days)
    return _place(session_specs(protocol), None, start_date, opening_days, closures)


def reschedule(
    sessions: Sequence[PlannedSession],
    index: int,
    new_date: date,
    protocol: Protocol,
    opening_days: frozenset[int],
    closures: frozenset[date],
) -> list[PlannedSession]:
    """Move session `index` (0-based) to `new_date`; later sessions are placed again after it.

    Earlier sessions never change. The moved session must keep the minimum gap to the one
    before it and fall on an open day; it may be late (a missed session), which stretches its
    window's end to the new date.
    """
    _check_calendar(opening_days)
    specs = session_specs(protocol)
    if len(specs) != len(sessions):
        raise ScheduleError(
            "This plan no longer matches its protocol template; stop it and create a new plan"
        )
    if not 0 <= index < len(sessions):
        raise ScheduleError(f"There is no session {index + 1} in this plan", "sequence")
    if not is_open(new_date, opening_days, closures):
        raise ScheduleError(f"The clinic is closed on {new_date:%A %d %B %Y}", "new_date")
    moved = _moved(sessions, index, new_date, specs[index])
    later = _place(specs[index + 1 :], moved, new_date, opening_days, closures)
    return [*sessions[:index], moved, *later]


def _moved(
    sessions: Sequence[PlannedSession], index: int, new_date: date, spec: SessionSpec
) -> PlannedSession:
    if index == 0:
        return replace(
            sessions[0],
            planned_date=new_date,
            window_start=new_date,
            window_end=new_date + timedelta(days=spec.window_after),
            min_gap_days=0,
        )
    previous = sessions[index - 1]
    target = previous.planned_date + timedelta(days=spec.gap_days)
    earliest = target - timedelta(days=spec.window_before)
    if new_date < earliest:
        raise ScheduleError(
            f"Session {spec.sequence} must be at least {spec.gap_days - spec.window_before} days "
            f"after session {previous.sequence} ({previous.planned_date.isoformat()}): "
            f"the earliest date is {earliest.isoformat()}",
            "new_date",
            (earliest, target),
        )
    latest = max(target + timedelta(days=spec.window_after), new_date)
    return replace(
        sessions[index],
        planned_date=new_date,
        window_start=earliest,
        window_end=latest,
        min_gap_days=spec.gap_days - spec.window_before,
    )


def _place(
    specs: Sequence[SessionSpec],
    previous: PlannedSession | None,
    start: date,
    opening_days: frozenset[int],
    closures: frozenset[date],
) -> list[PlannedSession]:
    placed: list[PlannedSession] = []
    for spec in specs:
        if previous is None:
            target, low = start, start
            high, min_gap = start + timedelta(days=spec.window_after), 0
        else:
            target = previous.planned_date + timedelta(days=spec.gap_days)
            low = target - timedelta(days=spec.window_before)
            high = target + timedelta(days=spec.window_after)
            min_gap = spec.gap_days - spec.window_before
        day = _nearest_open(target, low, high, opening_days, closures)
        if day is None:
            raise ScheduleError(
                f"No open day for session {spec.sequence} ({spec.phase}) between "
                f"{low.isoformat()} and {high.isoformat()}: check the clinic's closures",
                "start_date",
                (low, high),
            )
        previous = PlannedSession(
            spec.sequence, spec.phase, day, low, high, min_gap, spec.includes_prp
        )
        placed.append(previous)
    return placed


def _nearest_open(
    target: date, low: date, high: date, opening_days: frozenset[int], closures: frozenset[date]
) -> date | None:
    for day in _outward(target, low, high):
        if is_open(day, opening_days, closures):
            return day
    return None


def _outward(target: date, low: date, high: date) -> Iterator[date]:
    """Days from `target` outwards within [low, high]: target, +1, -1, +2, -2, ..."""
    if low <= target <= high:
        yield target
    reach = max((high - target).days, (target - low).days)
    for step in range(1, reach + 1):
        for day in (target + timedelta(days=step), target - timedelta(days=step)):
            if low <= day <= high:
                yield day


def _check_calendar(opening_days: frozenset[int]) -> None:
    if not opening_days or not opening_days <= frozenset(range(7)):
        raise ScheduleError(
            "The clinic must open on at least one weekday (0 = Monday)", "opening_days"
        )
