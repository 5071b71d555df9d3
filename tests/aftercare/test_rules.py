"""Pure precaution rules: windows from the rulebook, conflicts and the nearest safe date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesoclinic.aftercare import rulebook as rulebook_module
from mesoclinic.aftercare.rules import (
    DeclaredEventSpan,
    conflicts,
    is_safe,
    moved_to,
    nearest_safe_date,
    precaution_windows,
)
from mesoclinic.findings import RulebookError, validate_rulebook

RULEBOOK = rulebook_module.load()
LONDON = "Europe/London"


def windows_by_code(start: datetime, tz: str = LONDON) -> dict[str, tuple[datetime, datetime]]:
    return {w.code: (w.starts_at, w.ends_at) for w in precaution_windows(start, tz, RULEBOOK)}


def test_default_rulebook_gives_the_five_clinical_windows() -> None:
    start = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
    w = windows_by_code(start)
    assert w["avoid_sun"] == (start, start + timedelta(hours=48))
    assert w["no_sauna_pool"] == (start, start + timedelta(hours=72))
    assert w["no_hair_colour"] == (start - timedelta(days=7), start + timedelta(days=7))
    assert w["stop_blood_thinning_supplements"] == (start - timedelta(days=7), start)
    # Until 08:00 London time the next morning (07:00 UTC in summer): 22 h, over the 12 h minimum.
    assert w["no_hair_wash"] == (start, datetime(2026, 6, 11, 7, 0, tzinfo=UTC))


def test_late_session_keeps_hair_wash_window_at_least_twelve_hours() -> None:
    start = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)  # 21:00 London (GMT)
    assert windows_by_code(start)["no_hair_wash"][1] == start + timedelta(hours=12)


def test_next_morning_is_in_the_clinic_time_zone() -> None:
    start = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
    end = windows_by_code(start, "Europe/Madrid")["no_hair_wash"][1]
    assert end == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)  # 08:00 Madrid


def test_naive_session_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        precaution_windows(datetime(2026, 1, 1, 10, 0), LONDON, RULEBOOK)


def test_hair_colouring_inside_window_warns_with_nearest_safe_date() -> None:
    start = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
    event = DeclaredEventSpan("hair_colouring", date(2026, 3, 14), date(2026, 3, 14))
    [finding] = conflicts(start, [event], LONDON, RULEBOOK)
    assert finding.rule_id == "aftercare.no_hair_colour"
    assert finding.severity == "warning"
    assert "hair colouring" in finding.reason and finding.source
    # 6 March 21:00 ends the 7-day window on 13 March 21:00, before the 14th; later than
    # that, the first safe day after is 22 March (window starts 15 March 21:00).
    assert finding.suggested_date == date(2026, 3, 6)


def test_beach_holiday_conflicts_with_sun_and_pool_windows() -> None:
    start = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    event = DeclaredEventSpan("beach_holiday", date(2026, 7, 2), date(2026, 7, 9))
    found = conflicts(start, [event], LONDON, RULEBOOK, earliest=date(2026, 6, 20))
    assert {f.code for f in found} == {"avoid_sun", "no_sauna_pool"}
    # 28 June 10:00: the 72 h pool window ends 1 July 10:00, before the holiday starts.
    assert found[0].suggested_date == date(2026, 6, 28)


def test_earliest_date_is_never_undercut() -> None:
    start = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    event = DeclaredEventSpan("beach_holiday", date(2026, 7, 2), date(2026, 7, 9))
    found = conflicts(start, [event], LONDON, RULEBOOK, earliest=date(2026, 7, 1))
    assert found[0].suggested_date == date(2026, 7, 10)


def test_event_outside_windows_and_unrelated_kinds_give_no_warning() -> None:
    start = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    events = [
        DeclaredEventSpan("hair_colouring", date(2026, 4, 1), date(2026, 4, 1)),
        DeclaredEventSpan("other", date(2026, 3, 10), date(2026, 3, 12)),
    ]
    assert conflicts(start, events, LONDON, RULEBOOK) == []


def test_rulebook_errors_name_the_problem() -> None:
    raw = {
        "version": 1,
        "precautions": [
            {
                "code": "avoid_sun",
                "title": "Sun",
                "relation": "before",
                "instruction": "x",
                "source": "y",
                "duration": {"until_local_time": "08:00"},
            }
        ],
    }
    with pytest.raises(RulebookError, match="after"):
        validate_rulebook(raw, rulebook_module.AftercareRulebook, "test.yaml")
    raw["precautions"][0]["duration"] = {"hours": 4, "days": 1}
    with pytest.raises(RulebookError, match="exactly one"):
        validate_rulebook(raw, rulebook_module.AftercareRulebook, "test.yaml")


def test_clinic_rulebook_file_changes_the_windows(tmp_path: Path) -> None:
    text = rulebook_module.DEFAULT_RULEBOOK.read_text().replace("{hours: 48}", "{hours: 96}")
    path = tmp_path / "aftercare.yaml"
    path.write_text(text)
    start = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    windows = precaution_windows(start, LONDON, rulebook_module.load(path))
    assert next(w for w in windows if w.code == "avoid_sun").ends_at == start + timedelta(hours=96)


KINDS = st.sampled_from(["hair_colouring", "beach_holiday", "sauna", "other"])
event_spans = st.builds(
    lambda kind, offset, length: DeclaredEventSpan(
        kind,
        date(2026, 3, 1) + timedelta(days=offset),
        date(2026, 3, 1) + timedelta(days=offset + length),
    ),
    KINDS,
    st.integers(-40, 60),
    st.integers(0, 14),
)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(event_spans, max_size=4),
    day=st.integers(-10, 40),
    hour=st.integers(6, 21),
    tz=st.sampled_from([LONDON, "Europe/Madrid", "America/New_York"]),
    earliest_offset=st.none() | st.integers(-5, 5),
    closed_weekdays=st.frozensets(st.integers(0, 6), max_size=3),
)
def test_suggested_date_is_conflict_free_and_nearest(
    events: list[DeclaredEventSpan],
    day: int,
    hour: int,
    tz: str,
    earliest_offset: int | None,
    closed_weekdays: frozenset[int],
) -> None:
    requested = date(2026, 3, 1) + timedelta(days=day)
    start = moved_to(datetime(2026, 1, 5, hour, 30, tzinfo=UTC), requested, tz)
    earliest = None if earliest_offset is None else requested + timedelta(days=earliest_offset)

    def bookable(candidate: date) -> bool:
        return candidate.weekday() not in closed_weekdays

    suggestion = nearest_safe_date(start, events, tz, RULEBOOK, earliest, bookable)
    assert suggestion is not None and bookable(suggestion)
    assert earliest is None or suggestion >= earliest
    assert is_safe(moved_to(start, suggestion, tz), events, tz, RULEBOOK)
    distance = abs((suggestion - requested).days)
    for offset in range(-distance + 1, distance):
        nearer = requested + timedelta(days=offset)
        if (earliest is not None and nearer < earliest) or not bookable(nearer):
            continue
        assert not is_safe(moved_to(start, nearer, tz), events, tz, RULEBOOK)
    found = conflicts(start, events, tz, RULEBOOK, earliest, bookable)
    assert bool(found) != is_safe(start, events, tz, RULEBOOK)
    assert all(f.suggested_date == suggestion for f in found)
