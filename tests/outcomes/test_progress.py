"""Change from baseline, sessions between values and uncertainty: pure, with hypothesis."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mesoclinic.outcomes.progress import (
    BaselineRule,
    Reading,
    SessionGiven,
    build_series,
    change_from,
    error_words,
    value_uncertainty,
)

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
values = st.floats(min_value=0.5, max_value=1000, allow_nan=False)


def _day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@given(values, values)
def test_change_adds_back_to_the_value(baseline: float, value: float) -> None:
    absolute, percent = change_from(baseline, value)
    assert math.isclose(baseline + absolute, value, rel_tol=1e-9, abs_tol=1e-9)
    assert percent is not None
    assert math.isclose(percent, (value / baseline - 1) * 100, rel_tol=1e-9, abs_tol=1e-9)
    assert (percent > 0) == (value > baseline)


def test_a_zero_baseline_has_no_percentage() -> None:
    assert change_from(0, 5) == (5, None)


@given(st.lists(values, min_size=1, max_size=12), st.integers(min_value=0, max_value=11))
def test_every_change_is_from_the_last_value_before_the_first_session(
    series: list[float], before: int
) -> None:
    readings = [Reading(str(i), _day(30 * i), v, "device") for i, v in enumerate(series)]
    first_session = _day(30 * min(before, len(series) - 1) + 1)
    built = build_series(
        "density_total",
        readings,
        [SessionGiven(first_session, "Vitamins")],
        BaselineRule("last-before-first-session"),
    )
    baseline = built.baseline
    assert baseline is not None
    assert baseline.measured_at < first_session
    assert all(
        r.measured_at > first_session for r in readings if r.measured_at > baseline.measured_at
    )
    for point in built.points:
        if point.reading.measured_at > baseline.measured_at:
            assert point.change is not None
            assert math.isclose(point.change.absolute, point.reading.value - baseline.value)
            assert point.days_since_first_session is not None
            assert point.days_since_first_session >= 0
        else:
            assert point.change is None


@given(st.lists(st.integers(min_value=0, max_value=300), max_size=20))
def test_each_session_is_counted_once_between_values(days: list[int]) -> None:
    readings = [Reading(str(i), _day(d), 100.0) for i, d in enumerate((0, 90, 180, 400))]
    sessions = [SessionGiven(_day(d + 0.5), "Vitamins", prp=d % 2 == 0) for d in days]
    built = build_series("density_total", readings, sessions, BaselineRule.FIRST_MEASUREMENT)
    counted = [s for p in built.points for s in p.sessions_since_previous]
    assert sorted(counted, key=lambda s: s.performed_at) == sorted(
        sessions, key=lambda s: s.performed_at
    )
    assert built.points[-1].sessions_so_far == len(sessions)


def test_without_a_value_before_the_first_session_there_is_no_baseline() -> None:
    readings = [Reading("a", _day(10), 120.0), Reading("b", _day(100), 140.0)]
    built = build_series("density_total", readings, [SessionGiven(_day(0), "Vitamins")])
    assert built.baseline is None
    assert "before the first session" in built.baseline_note
    assert all(p.change is None for p in built.points)


def test_no_readings_and_one_reading() -> None:
    assert build_series("density_total", [], []).points == ()
    one = build_series("density_total", [Reading("a", T0, 120.0)], [])
    assert one.baseline is not None and one.points[0].is_baseline
    assert one.points[0].change is None


def test_sessions_between_name_the_cocktail_and_prp() -> None:
    readings = [Reading("a", _day(0), 100.0, "device"), Reading("b", _day(90), 125.0, "device")]
    sessions = [
        SessionGiven(_day(1), "Vitamins"),
        SessionGiven(_day(15), "Vitamins", prp=True),
        SessionGiven(_day(120), "Vitamins"),
    ]
    built = build_series("density_total", readings, sessions)
    later = built.points[1]
    assert [s.prp for s in later.sessions_since_previous] == [False, True]
    assert later.days_since_first_session == 89
    assert later.change is not None and later.change.percent is not None
    assert math.isclose(later.change.percent, 25.0)
    # Two device readings with 9 % error each: the change's error is their combination.
    assert later.change.uncertainty is not None
    assert math.isclose(later.change.uncertainty, math.hypot(9.0, 125 * 0.09))
    assert error_words(later.change) == (
        "within the range where measurement error could explain part of it"
    )
    small = build_series(
        "density_total", readings[:1] + [Reading("c", _day(90), 112.0, "device")], sessions
    )
    assert small.points[1].change is not None
    assert error_words(small.points[1].change) == (
        "within the range measurement error alone could explain"
    )


def test_uncertainty_table() -> None:
    assert value_uncertainty("wash_count", "manual", 100) == 10
    assert value_uncertainty("density_total", "image-analysis", 200) == 30
    assert value_uncertainty("patient_satisfaction", "manual", 7) is None
