"""The derived analytics rows (`analytics.rows`) stay equal to a rebuild from scratch after every
kind of write through the services, in the writer's own transaction; the reads use them only
while their definition is the code's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from mesoclinic.analytics import rows, safety, service
from mesoclinic.analytics.cohorts import CohortFilter
from mesoclinic.analytics.models import (
    ANALYTICS_EXPOSURES,
    ANALYTICS_OUTCOMES,
    ANALYTICS_PATIENTS,
    ANALYTICS_STATE,
)
from mesoclinic.assessment import service as assessments
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import RecordStatus, unit_of_work
from mesoclinic.outcomes import service as measurements
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.models import Measurement, MeasurementStatus
from mesoclinic.outcomes.schemas import MeasurementCorrection, MeasurementCreate
from mesoclinic.patients import service as patients
from mesoclinic.patients.schemas import PatientUpdate
from mesoclinic.plans import service as plans
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.security.actor import cli_actor
from mesoclinic.visits import service as visits
from mesoclinic.visits.models import Visit, VisitStatus
from stock_support import stock_clinic, visit_body


def _snapshot(session: Any) -> dict[str, list[tuple[Any, ...]]]:
    def rounded(row: Any) -> tuple[Any, ...]:
        return tuple(round(v, 9) if isinstance(v, float) else v for v in row)

    return {
        table.name: sorted(
            (rounded(r) for r in session.execute(select(table))), key=lambda r: str(r)
        )
        for table in (ANALYTICS_PATIENTS, ANALYTICS_OUTCOMES, ANALYTICS_EXPOSURES)
    }


def assert_rows_current(session: Any) -> dict[str, list[tuple[Any, ...]]]:
    """The derived rows as the writes left them equal those a rebuild from scratch makes."""
    session.flush()
    kept = _snapshot(session)
    rows.rebuild(session.connection())
    assert kept == _snapshot(session)
    return kept


def _row(session: Any, patient_id: Any) -> Any:
    return session.execute(
        select(ANALYTICS_PATIENTS).where(ANALYTICS_PATIENTS.c.patient_id == patient_id)
    ).one_or_none()


def _measured_patient(session: Any) -> Any:
    """A demo patient with a density change at a follow-up, three density values or more and a
    plan open to stopping (the first such by id: the same patient on every run)."""
    open_plans = select(TreatmentPlan.patient_id).where(
        TreatmentPlan.status.in_([PlanStatus.ACTIVE, PlanStatus.PAUSED])
    )
    three_values = (
        select(Measurement.patient_id)
        .where(
            Measurement.kind == "density_total",
            Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
            Measurement.superseded_at.is_(None),
        )
        .group_by(Measurement.patient_id)
        .having(func.count() >= 3)
    )
    found = session.execute(
        select(ANALYTICS_OUTCOMES.c.patient_id)
        .where(
            ANALYTICS_OUTCOMES.c.kind == "density_total",
            ANALYTICS_OUTCOMES.c.change.is_not(None),
            ANALYTICS_OUTCOMES.c.patient_id.in_(open_plans),
            ANALYTICS_OUTCOMES.c.patient_id.in_(three_values),
        )
        .order_by(ANALYTICS_OUTCOMES.c.patient_id)
        .limit(1)
    ).scalar()
    assert found is not None, "the demo has a measured patient with an open plan"
    return found


def test_every_write_through_the_services_keeps_the_rows_current(demo, session):
    actor, book = cli_actor("test"), load_kinds()
    before = assert_rows_current(session)  # the demo, written through the services
    assert before["analytics_patients"] and before["analytics_outcomes"]
    # The demo's past courses add each session's lot and adverse events in a flush of their
    # own, after the session's: the exposures follow them too.
    assert any(r[1] == "lot" and r[-1] > 0 for r in before["analytics_exposures"])
    pid = _measured_patient(session)
    density = (
        session.execute(
            select(Measurement)
            .where(
                Measurement.patient_id == pid,
                Measurement.kind == "density_total",
                Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
                Measurement.superseded_at.is_(None),
            )
            .order_by(Measurement.measured_at)
        )
        .scalars()
        .all()
    )
    assert len(density) >= 3
    first_row = _row(session, pid)

    # a correction: the corrected value replaces what it corrects
    measurements.correct(
        session, actor, density[-1].id, MeasurementCorrection(value=199.5, reason="typo"), book
    )
    assert_rows_current(session)
    # a value entered in error is never read
    measurements.void(session, actor, density[-2].id, "wrong patient")
    assert_rows_current(session)
    # a new value near the 3-month target day
    at = min(first_row.t0 + timedelta(days=92), datetime.now(UTC) - timedelta(hours=1))
    measurements.create(
        session,
        actor,
        pid,
        MeasurementCreate(
            kind="density_total",
            value=150.0,
            unit=density[0].unit,
            measured_at=at,
            site_id=density[0].site_id,
        ),
        book,
    )
    assert_rows_current(session)
    # the plan stopped: the patient now counts as dropped out
    plan = session.execute(
        select(TreatmentPlan).where(
            TreatmentPlan.patient_id == pid,
            TreatmentPlan.status.in_([PlanStatus.ACTIVE, PlanStatus.PAUSED]),
        )
    ).scalar_one()
    plans.transition(session, actor, plan.id, "stop", "moved abroad")
    assert _row(session, pid).dropped == 1
    assert_rows_current(session)
    # demographics
    patients.update(session, actor, pid, PatientUpdate(birth_date=date(1970, 5, 5), sex="male"))
    assert _row(session, pid).birth_date == date(1970, 5, 5)
    assert_rows_current(session)
    # the latest assessment voided: the stage comes from the one before (or none)
    latest = (
        session.execute(
            select(Assessment)
            .where(Assessment.patient_id == pid, Assessment.status == RecordStatus.ACTIVE)
            .order_by(Assessment.assessed_at.desc())
        )
        .scalars()
        .first()
    )
    if latest is not None:
        assessments.void(session, actor, pid, latest.id, "entered for the wrong patient")
        assert_rows_current(session)
    # the first session voided: time zero moves to the next one
    sessions = (
        session.execute(
            select(Visit)
            .where(Visit.patient_id == pid, Visit.status == VisitStatus.COMPLETED)
            .order_by(Visit.performed_at)
        )
        .scalars()
        .all()
    )
    visits.void(session, actor, sessions[0].id, "recorded twice")
    moved = _row(session, pid)
    if len(sessions) > 1:
        assert moved.t0 == sessions[1].performed_at
    else:
        assert moved is None
    assert_rows_current(session)
    # the whole record entered in error: the patient leaves every cohort
    patients.void(session, actor, pid, "duplicate record")
    assert _row(session, pid) is None
    assert_rows_current(session)


def test_a_session_recorded_through_the_api_makes_the_patient_a_cohort_member(world, db):
    stocked = stock_clinic(world)
    patient = world.patient_a
    with unit_of_work(db.factory) as s:
        assert _row(s, patient.id) is None  # registered, never treated
    body = visit_body(patient.id, stocked.vitamin_cocktail.id, stocked.vitamin_lot.id)
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.status_code == 201, r.text
    with unit_of_work(db.factory) as s:
        row = _row(s, patient.id)
        assert row is not None and row.clinic_id == world.clinic_a.id
        assert row.cocktail_id == stocked.vitamin_cocktail.id
        assert_rows_current(s)


def test_the_reads_use_the_rows_only_while_their_definition_is_the_codes(
    world, session, monkeypatch
):
    connection = session.connection()
    assert rows.ready(connection)  # the migration built them
    stored = session.execute(select(ANALYTICS_STATE.c.fingerprint)).scalar_one()
    assert stored == rows.fingerprint()
    monkeypatch.setattr(rows, "ROWS_VERSION", rows.ROWS_VERSION + 1)
    assert not rows.ready(connection)
    # the reads still answer, deriving the cohort per request
    summary = service.summary(session, world.actor("clinician"), filt=CohortFilter())
    assert [r.time_point for r in summary.time_points] == ["baseline", "3m", "6m", "12m"]
    counts = service.rebuild_rows(session, cli_actor("test"))
    assert rows.ready(connection)
    assert set(counts) == {"analytics_patients", "analytics_outcomes", "analytics_exposures"}


def test_the_lots_report_from_the_exposure_rows_equals_the_one_counted_per_request(
    demo, session, monkeypatch
):
    admin = cli_actor("test")  # a group administrator: every clinic
    derived = safety.lots(session, admin, filt=CohortFilter())
    assert any(row.events for row in derived.lots)  # the demo's bad lot is in it
    monkeypatch.setattr(rows, "ROWS_VERSION", rows.ROWS_VERSION + 1)
    assert not rows.ready(session.connection())
    counted = safety.lots(session, admin, filt=CohortFilter())
    for part in ("lots", "products", "techniques", "clinicians"):
        assert getattr(derived, part) == getattr(counted, part), part
