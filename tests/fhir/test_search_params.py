"""Search parameter values (pure): dates with prefixes, tokens, references."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mesoclinic.fhir.params import (
    BadParameter,
    parse_birthdate,
    parse_date,
    parse_reference,
    parse_token,
)

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY_BEFORE = datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)
DAY_AFTER = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "before", "during", "after"),
    [
        ("2026-03-01", False, True, False),
        ("eq2026-03-01", False, True, False),
        ("ne2026-03-01", True, False, True),
        ("ge2026-03-01", False, True, True),
        ("gt2026-03-01", False, False, True),
        ("le2026-03-01", True, True, False),
        ("lt2026-03-01", True, False, False),
    ],
)
def test_a_day_covers_the_whole_day_under_each_prefix(raw, before, during, after):
    day = parse_date("date", raw)
    assert (day.matches(DAY_BEFORE), day.matches(NOON), day.matches(DAY_AFTER)) == (
        before,
        during,
        after,
    )


def test_a_datetime_compares_to_the_second_in_utc():
    moment = parse_date("date", "ge2026-03-01T13:00:00+01:00")
    assert moment.matches(NOON) and not moment.matches(DAY_BEFORE)


@pytest.mark.parametrize("raw", ["2026-13-01", "yesterday", "ge", "2026-03-01T10:00:00"])
def test_bad_dates_name_the_parameter(raw):
    with pytest.raises(BadParameter) as refused:
        parse_date("date", raw)
    assert refused.value.name == "date"


def test_birthdate_takes_one_day_only():
    assert parse_birthdate("1985-04-12").isoformat() == "1985-04-12"
    assert parse_birthdate("eq1985-04-12").isoformat() == "1985-04-12"
    for raw in ("ge1985-04-12", "1985-02-30", "1985"):
        with pytest.raises(BadParameter):
            parse_birthdate(raw)


def test_tokens_with_and_without_a_system():
    coded = [{"system": "http://loinc.org", "code": "82810-3"}]
    assert parse_token("code", "82810-3").matches(coded)
    assert parse_token("code", "http://loinc.org|82810-3").matches(coded)
    assert not parse_token("code", "http://snomed.info/sct|82810-3").matches(coded)
    assert parse_token("code", "|82810-3").matches(coded)
    with pytest.raises(BadParameter):
        parse_token("code", "http://loinc.org|")


def test_references_accept_the_type_prefix_or_a_bare_id():
    assert parse_reference("patient", "Patient/abc", "Patient") == "abc"
    assert parse_reference("patient", "abc", "Patient") == "abc"
    with pytest.raises(BadParameter):
        parse_reference("patient", "Group/abc", "Patient")
