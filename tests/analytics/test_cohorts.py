"""The cohort definition, its scope and the pure pieces of the summaries (no database)."""

from __future__ import annotations

import uuid
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesoclinic.analytics.cohorts import (
    CohortFilter,
    birth_date_bounds,
    filter_words,
    parse_filter,
    scope_for,
    suppressed,
    time_point,
)
from mesoclinic.analytics.summaries import Moments, quantile_from_positions, time_point_row
from mesoclinic.errors import InvalidInput

A, B = uuid.uuid4(), uuid.uuid4()


def test_staff_are_held_to_their_clinic_and_group_admins_choose():
    asked = CohortFilter(clinic=(B,))
    assert scope_for(asked, group_admin=False, own_clinic=A).clinics == (A,)
    assert scope_for(asked, group_admin=True, own_clinic=None).clinics == (B,)
    assert scope_for(CohortFilter(), group_admin=True, own_clinic=None).clinics is None
    with pytest.raises(InvalidInput):
        scope_for(CohortFilter(), group_admin=False, own_clinic=None)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("{", "filter"),
        ('{"sex": "other"}', "filter.sex"),
        ('{"stage": ["norwood:III"]}', "filter.stage"),
        ('{"age_band": ["12-17"]}', "filter.age_band"),
        ('{"started_from": "2026-02-01", "started_to": "2026-01-01"}', "filter"),
        ('{"unknown": 1}', "filter.unknown"),
    ],
)
def test_a_bad_filter_names_its_field(text, field):
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    assert caught.value.field == field


def test_a_filter_reads_in_plain_words():
    filt = parse_filter('{"sex": "male", "prp": true, "stage": ["norwood_hamilton:III"]}')
    assert filt is not None
    assert filter_words(filt, {}) == "stage norwood-hamilton III; male; with PRP"
    assert filter_words(CohortFilter(), {}) == "all treated patients"
    assert parse_filter("  ") is None


def test_age_bands_bound_the_birth_date():
    assert birth_date_bounds("30-39", date(2026, 6, 15)) == (date(1986, 6, 15), date(1996, 6, 15))
    assert birth_date_bounds("60+", date(2024, 2, 29)) == (None, date(1964, 2, 29))
    assert birth_date_bounds("18-29", date(2024, 2, 29))[1] == date(2006, 2, 28)


def test_time_points_and_small_cells():
    assert time_point("6m").target_day == 183
    with pytest.raises(InvalidInput):
        time_point("2y")
    assert [suppressed(n) for n in (0, 1, 4, 5)] == [False, True, True, False]


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=40))
def test_quantiles_from_two_positions_match_percentile_cont(values):
    ordered = sorted(values)
    n = len(ordered)
    for q in (0.25, 0.5, 0.75):
        low = int(q * (n - 1))
        at = {p: ordered[p] for p in (low, low + 1) if p < n}
        expected = float(np.percentile(ordered, q * 100))
        assert quantile_from_positions(at, n, q) == pytest.approx(expected, abs=1e-9)


def test_a_time_point_row_hides_what_rests_on_under_five_patients():
    small = time_point_row(
        "3m", 12, {"measured": 3, "no_value": 9}, Moments(3, 30.0, 310.0, 2, 300.0), {}
    )
    assert small.n is None and small.mean_change is None and small.responders is None
    assert {"n", "measured", "mean_change"} <= set(small.suppressed) and small.no_value == 9
    fine = time_point_row(
        "3m", 12, {"measured": 6}, Moments(6, 60.0, 620.0, 5, 600.0), {"q50": 10.0}
    )
    assert fine.n == 6 and fine.mean_change == pytest.approx(10.0)
    assert fine.responders == 5 and fine.responder_rate == pytest.approx(5 / 6)
    assert fine.percent_change == pytest.approx(10.0) and fine.median_change == 10.0
