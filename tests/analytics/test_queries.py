"""The cohort SQL on known data gives known counts, means, quartiles, responders and drop-outs
(SQLite always; PostgreSQL when configured)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics.cohort_data import NOW, add_patient, arrange
from mesoclinic.analytics import service
from mesoclinic.analytics.cohorts import CohortFilter
from mesoclinic.outcomes.models import Measurement, MeasurementStatus


def _row(summary, key):
    return next(r for r in summary.time_points if r.time_point == key)


@pytest.fixture
def known(world, session):
    k = arrange(session, world)
    for d in (5, 10, 15, 20, 25, 30):
        # The 3-month value nearest day 91 counts; the one at day 70 and the one at 150
        # (outside every window) do not.
        add_patient(session, k, values={0: 100.0, 70: 500.0, 91: 100.0 + d, 150: 900.0, 183: 110.0})
    add_patient(session, k, values={0: 100.0}, stopped=True)
    for _ in range(5):
        add_patient(session, k, values={0: 100.0, 91: 120.0}, prp=True, cocktail="Dutasteride")
    return k


def test_summary_counts_means_quartiles_responders_and_dropouts(world, session, known):
    result = service.summary(
        session, world.actor("clinician"), filt=CohortFilter(prp=False), now=NOW
    )
    three = _row(result, "3m")
    assert (three.cohort, three.measured, three.n) == (7, 6, 6)
    assert three.mean_change == pytest.approx(17.5)
    assert three.median_change == pytest.approx(17.5)
    assert (three.q1_change, three.q3_change) == (pytest.approx(11.25), pytest.approx(23.75))
    # +10 % or more at 3 months meets the clinic's density rule: 5 of 6.
    assert three.responders == 5
    assert three.responder_rate == pytest.approx(5 / 6)
    assert (
        three.mean_change_ci is not None
        and three.mean_change_ci.low < 17.5 < three.mean_change_ci.high
    )
    # The stopped plan's patient never vanishes: counted as dropped out (1 is under 5: hidden).
    assert three.dropped_out is None and "dropped_out" in three.suppressed
    six = _row(result, "6m")
    assert six.n == 6 and six.mean_change == pytest.approx(10.0)
    twelve = _row(result, "12m")
    assert twelve.n == 0 and twelve.mean_change is None and twelve.no_value == 6
    baseline = _row(result, "baseline")
    assert baseline.measured == 7
    assert result.responder_rule and "10 %" in result.responder_rule


def test_filters_select_the_cohort(world, session, known):
    actor = world.actor("clinician")
    prp = service.summary(session, actor, filt=CohortFilter(prp=True), now=NOW)
    assert _row(prp, "3m").n == 5 and _row(prp, "3m").mean_change == pytest.approx(20.0)
    dut = known.cocktails["Dutasteride"].name
    by_cocktail = service.summary(session, actor, filt=CohortFilter(cocktail=(dut,)), now=NOW)
    assert _row(by_cocktail, "3m").cohort == 5
    nobody = service.summary(session, actor, filt=CohortFilter(sex="male"), now=NOW)
    assert _row(nobody, "3m").cohort == 0


def test_a_value_entered_in_error_is_not_read_and_the_next_nearest_counts(world, session, known):
    actor = world.actor("clinician")
    rows = session.query(Measurement).filter(Measurement.value == 130.0).all()
    assert len(rows) == 1
    rows[0].status = MeasurementStatus.ENTERED_IN_ERROR
    session.flush()
    three = _row(service.summary(session, actor, filt=CohortFilter(prp=False), now=NOW), "3m")
    # That patient's next-nearest value in the window (day 70, 500) is read instead.
    assert three.n == 6 and three.mean_change == pytest.approx((5 + 10 + 15 + 20 + 25 + 400) / 6)


def test_a_window_still_open_is_not_yet_due_rather_than_missing(world, session):
    k = arrange(session, world)
    for _ in range(5):
        add_patient(session, k, values={0: 100.0, 91: 110.0}, start=NOW - timedelta(days=120))
    result = service.summary(session, world.actor("clinician"), now=NOW)
    assert _row(result, "6m").not_yet_due == 5 and _row(result, "6m").no_value == 0
    assert _row(result, "3m").n == 5


def test_small_cells_are_suppressed_and_named(world, session):
    k = arrange(session, world)
    for d in (1, 2, 3):
        add_patient(session, k, values={0: 100.0, 91: 100.0 + d})
    three = _row(service.summary(session, world.actor("clinician"), now=NOW), "3m")
    assert three.n is None and three.mean_change is None and three.median_change is None
    assert {"cohort", "n", "mean_change"} <= set(three.suppressed)


def test_staff_see_only_their_clinic_and_group_admins_every_clinic(world, session, known):
    b = arrange(session, world)
    b.clinic_id = world.clinic_b.id
    for _ in range(5):
        add_patient(session, b, values={0: 100.0, 91: 150.0})
    asked_for_b = CohortFilter(clinic=(world.clinic_b.id,))
    mine = service.summary(session, world.actor("clinician"), filt=asked_for_b, now=NOW)
    assert _row(mine, "3m").cohort == 12  # forced to clinic A whatever the filter says
    theirs = service.summary(session, world.actor("clinician_b"), now=NOW)
    assert _row(theirs, "3m").cohort == 5
    group = service.summary(session, world.actor("admin"), now=NOW)
    assert _row(group, "3m").cohort == 17
    only_b = service.summary(session, world.actor("admin"), filt=asked_for_b, now=NOW)
    assert _row(only_b, "3m").mean_change == pytest.approx(50.0)


def test_every_summary_writes_one_audit_entry_without_patient_ids(world, session, known):
    from support import audit_entries

    service.summary(session, world.actor("clinician"), filt=CohortFilter(prp=False), now=NOW)
    session.flush()
    entries = [e for e in audit_entries(world.db, action="analytics")]
    assert len(entries) == 1
    assert entries[0].patient_id is None and entries[0].entity_type == "analytics_cohort"
    assert '"prp": false' in entries[0].detail
    for patient_id in {str(m.patient_id) for m in session.query(Measurement)}:
        assert patient_id not in entries[0].detail
