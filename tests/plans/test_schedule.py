"""Plan generation and rescheduling (pure): intervals, windows, closures and order always hold."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mesoclinic.plans.protocols import Phase, Protocol, load_protocols
from mesoclinic.plans.schedule import (
    PlannedSession,
    ScheduleError,
    generate_sessions,
    is_open,
    reschedule,
    session_specs,
)

BOOK = load_protocols()
START = date(2026, 1, 5)


@st.composite
def phases(draw: st.DrawFn) -> Phase:
    interval = draw(st.integers(1, 120))
    sessions = draw(st.integers(1, 8))
    offsets = None
    if draw(st.booleans()) and sessions > 1:
        steps = draw(st.lists(st.integers(1, 8), min_size=sessions - 1, max_size=sessions - 1))
        offsets = tuple([0, *[sum(steps[: i + 1]) for i in range(len(steps))]])
    smallest = min([interval] + [7 * (b - a) for a, b in pairwise(offsets or ())])
    window_before = draw(st.integers(0, smallest - 1))
    prp = draw(st.sets(st.integers(1, sessions), max_size=sessions))
    return Phase(
        name=draw(st.sampled_from(["induction", "consolidation", "maintenance"])),
        sessions=sessions,
        interval_days=interval,
        window_before=window_before,
        window_after=draw(st.integers(0, 14)),
        prp_sessions=tuple(sorted(prp)),
        week_offsets=offsets,
    )


protocols = st.one_of(
    st.sampled_from(BOOK.protocols),
    st.builds(
        lambda ps: Protocol(code="generated", name="Generated", source="test", phases=tuple(ps)),
        st.lists(phases(), min_size=1, max_size=3),
    ),
)
opening_days = st.frozensets(st.integers(0, 6), min_size=1)
starts = st.dates(date(2025, 1, 1), date(2028, 12, 31))


def closures_near(start: date) -> st.SearchStrategy[frozenset[date]]:
    return st.frozensets(st.dates(start, start + timedelta(days=800)), max_size=40)


def assert_valid(
    sessions: list[PlannedSession], opening: frozenset[int], closed: frozenset[date]
) -> None:
    for before, after in pairwise(sessions):
        assert after.planned_date > before.planned_date
        assert (after.planned_date - before.planned_date).days >= after.min_gap_days
    for s in sessions:
        assert is_open(s.planned_date, opening, closed)
        assert s.window_start <= s.planned_date <= s.window_end
    assert [s.sequence for s in sessions] == list(range(1, len(sessions) + 1))


def no_open_day_in(error: ScheduleError, opening: frozenset[int], closed: frozenset[date]) -> bool:
    assert error.window is not None
    low, high = error.window
    return not any(
        is_open(low + timedelta(days=i), opening, closed) for i in range((high - low).days + 1)
    )


@settings(max_examples=150, deadline=None)
@given(protocols, starts, opening_days, st.data())
def test_generated_sessions_respect_intervals_windows_and_closures(
    protocol: Protocol, start: date, opening: frozenset[int], data: st.DataObject
) -> None:
    closed = data.draw(closures_near(start))
    try:
        sessions = generate_sessions(protocol, start, opening, closed)
    except ScheduleError as error:
        # Refusing is only allowed when the clinic really is shut for the whole window.
        assert no_open_day_in(error, opening, closed)
        return
    assert len(sessions) == protocol.session_count
    assert sessions[0].planned_date >= start
    specs = session_specs(protocol)
    for spec, s, prev in zip(specs[1:], sessions[1:], sessions, strict=False):
        target = prev.planned_date + timedelta(days=spec.gap_days)
        assert s.window_start == target - timedelta(days=spec.window_before)
        assert s.window_end == target + timedelta(days=spec.window_after)
        assert s.min_gap_days == spec.gap_days - spec.window_before > 0
    assert [s.includes_prp for s in sessions] == [spec.includes_prp for spec in specs]
    assert_valid(sessions, opening, closed)


@settings(max_examples=150, deadline=None)
@given(protocols, starts, opening_days, st.data())
def test_rescheduling_keeps_order_intervals_and_earlier_sessions(
    protocol: Protocol, start: date, opening: frozenset[int], data: st.DataObject
) -> None:
    closed = data.draw(closures_near(start))
    try:
        sessions = generate_sessions(protocol, start, opening, closed)
    except ScheduleError:
        assume(False)
        return
    index = data.draw(st.integers(0, len(sessions) - 1))
    new_date = sessions[index].planned_date + timedelta(days=data.draw(st.integers(-30, 60)))
    try:
        moved = reschedule(sessions, index, new_date, protocol, opening, closed)
    except ScheduleError as error:
        too_early = (
            index > 0
            and (new_date - sessions[index - 1].planned_date).days
            < session_specs(protocol)[index].gap_days - session_specs(protocol)[index].window_before
        )
        assert (
            not is_open(new_date, opening, closed)
            or too_early
            or (error.window is not None and no_open_day_in(error, opening, closed))
        )
        return
    assert moved[:index] == sessions[:index]
    assert moved[index].planned_date == new_date
    assert len(moved) == len(sessions)
    assert_valid(moved, opening, closed)


def test_closed_days_are_skipped_to_the_nearest_open_day() -> None:
    minoxidil = BOOK.get("minoxidil")
    monday = date(2026, 1, 5)
    christmas_week = frozenset({monday + timedelta(days=7)})
    sessions = generate_sessions(minoxidil, monday, frozenset(range(6)), christmas_week)
    assert sessions[1].planned_date == monday + timedelta(days=8)  # Tuesday: later wins a tie
    assert sessions[2].planned_date == monday + timedelta(days=15)  # 7 days after the moved one


def test_dutasteride_follows_its_week_offsets() -> None:
    sessions = generate_sessions(BOOK.get("dutasteride"), START, frozenset(range(7)), frozenset())
    weeks = [(s.planned_date - START).days / 7 for s in sessions[:7]]
    assert weeks == [0, 1, 2, 3, 5, 7, 11]


def test_meso_prp_marks_prp_monthly_three_times_in_induction() -> None:
    sessions = generate_sessions(BOOK.get("meso-prp"), START, frozenset(range(7)), frozenset())
    prp = [s.planned_date for s in sessions if s.includes_prp][:3]
    assert [(b - a).days for a, b in pairwise(prp)] == [28, 28]


def test_moving_a_session_too_early_is_refused_with_the_earliest_date() -> None:
    protocol = BOOK.get("standard-vitamin")
    sessions = generate_sessions(protocol, START, frozenset(range(7)), frozenset())
    with pytest.raises(ScheduleError) as caught:
        reschedule(
            sessions, 1, START + timedelta(days=5), protocol, frozenset(range(7)), frozenset()
        )
    assert caught.value.field == "new_date"
    assert "2026-01-17" in caught.value.message  # 14 - 2 days after 5 January


def test_a_clinic_that_never_opens_is_refused() -> None:
    with pytest.raises(ScheduleError) as caught:
        generate_sessions(BOOK.get("minoxidil"), START, frozenset(), frozenset())
    assert caught.value.field == "opening_days"
