"""The least interval between two visits of a patient, and a visit outside its plan window."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from mesoclinic.db import unit_of_work
from mesoclinic.plans.models import Appointment, AppointmentStatus, PlanSession
from mesoclinic.security.actor import cli_actor
from mesoclinic.visits import rules
from mesoclinic.visits.models import Visit
from mesoclinic.visits.rulebook import get_visit_rulebook
from plans.plan_support import make_treatable

BOOK = get_visit_rulebook()
DAY = date(2026, 11, 23)
SRC = "docs/clinical-sources.md#visit-interval"


def _interval(*days_ago: int, min_days: int = 6) -> rules.IntervalFacts:
    return rules.IntervalFacts(tuple(DAY - timedelta(days=d) for d in days_ago), min_days, SRC)


def _ids(findings: list[Any]) -> list[str]:
    return [f.rule_id for f in findings]


def test_same_day_visit_is_refused_with_rule_and_source():
    [finding] = rules.check_interval(DAY, _interval(0), BOOK)
    assert (finding.rule_id, finding.severity) == ("visit.interval.too_close", "refuse")
    assert "same day" in finding.reason
    assert finding.source.startswith("docs/clinical-sources.md#visit-interval")


def test_visit_under_the_minimum_is_a_warning_to_confirm():
    [finding] = rules.check_interval(DAY, _interval(3, 30), BOOK)
    assert (finding.rule_id, finding.severity) == ("visit.interval.under_minimum", "warning")
    assert "3 day(s)" in finding.reason and "6 days" in finding.reason


def test_protocol_minimum_replaces_the_default_and_later_visits_count_too():
    assert rules.check_interval(DAY, _interval(6), BOOK) == []
    assert _ids(rules.check_interval(DAY, _interval(-10, min_days=12), BOOK)) == [
        "visit.interval.under_minimum"
    ]
    assert rules.check_interval(DAY, _interval(), BOOK) == []


def test_visit_outside_its_plan_window_and_appointment_day_warns():
    item = rules.PlanSessionFacts(
        3,
        DAY + timedelta(days=7),
        DAY + timedelta(days=5),
        DAY + timedelta(days=11),
        DAY + timedelta(days=7),
        "30 Nov 2026 14:00",
    )
    found = rules.check_plan_window(DAY, item)
    assert _ids(found) == ["plan.session_outside_window", "plan.appointment_other_day"]
    assert all(f.severity == "warning" for f in found)
    assert "30 Nov 2026 14:00" in found[1].reason and "stays booked" in found[1].reason
    inside = rules.PlanSessionFacts(3, DAY, DAY - timedelta(days=2), DAY + timedelta(days=4))
    assert rules.check_plan_window(DAY, inside) == []


def _post(world: Any, body: dict[str, Any]) -> Any:
    return world.client("clinician").post("/api/v1/visits", json=body)


def _count(world: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(Visit)).scalar_one()


def test_two_visits_minutes_apart_the_second_is_refused(world, stocked, visit_body):
    first = visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot)
    assert _post(world, first).status_code == 201
    later = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    second = visit_body(
        world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot, performed_at=later
    )
    r = _post(world, {**second, "confirmed_warnings": ["visit.interval.too_close"]})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "safety_check_failed"
    assert "visit.interval.too_close" in [c["rule_id"] for c in r.json()["error"]["checks"]]
    assert _count(world) == 1


def test_visit_days_after_another_needs_confirmation(world, stocked, visit_body):
    earlier = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    old = visit_body(
        world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot, performed_at=earlier
    )
    assert _post(world, old).status_code == 201
    body = visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot)
    r = _post(world, body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "warnings_need_confirmation"
    assert [c["rule_id"] for c in r.json()["error"]["checks"]] == ["visit.interval.under_minimum"]
    confirmed = _post(world, {**body, "confirmed_warnings": ["visit.interval.under_minimum"]})
    assert confirmed.status_code == 201, confirmed.text
    assert "visit.interval.under_minimum" in confirmed.json()["confirmed_warnings"]


def _plan_with_appointment(world: Any, first_day: date, appointment_at: datetime) -> Any:
    """An active plan whose first session is on `first_day`, its appointment at a given time."""
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "standard-vitamin", "start_date": first_day.isoformat()},
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    with unit_of_work(world.db.factory) as s:
        item = s.get(PlanSession, uuid.UUID(plan["sessions"][0]["id"]))
        # Put the session's dates where the test wants them, whatever day the suite runs.
        item.planned_date = first_day
        item.window_start, item.window_end = (
            first_day - timedelta(days=2),
            first_day + timedelta(days=4),
        )
        appointment = Appointment(
            clinic_id=world.clinic_a.id,
            patient_id=world.patient_a.id,
            practitioner_id=world.users["clinician"].id,
            room="Room 1",
            starts_at=appointment_at,
            duration_minutes=30,
            plan_session_id=item.id,
            created_by=cli_actor("test").username,
            updated_by="test",
        )
        s.add(appointment)
        s.flush()
        item.appointment_id, item.status = appointment.id, "booked"
        return plan, item.id, appointment.id


def _appointment(world: Any, appointment_id: Any) -> Any:
    with world.db.factory() as s:
        return s.get(Appointment, appointment_id)


def test_visit_for_next_weeks_session_warns_and_leaves_its_appointment_booked(
    world, stocked, visit_body
):
    today = datetime.now(ZoneInfo("Europe/London")).date()
    next_week = datetime.now(UTC) + timedelta(days=7)
    plan, session_id, appointment_id = _plan_with_appointment(
        world, today + timedelta(days=7), next_week
    )
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        plan_session_id=str(session_id),
    )
    r = _post(world, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "warnings_need_confirmation"
    ids = [c["rule_id"] for c in r.json()["error"]["checks"]]
    assert ids == ["plan.session_outside_window", "plan.appointment_other_day"]
    assert _appointment(world, appointment_id).status == AppointmentStatus.BOOKED
    confirmed = _post(world, {**body, "confirmed_warnings": ids})
    assert confirmed.status_code == 201, confirmed.text
    after = world.client("clinician").get(f"/api/v1/plans/{plan['id']}").json()
    assert after["sessions"][0]["status"] == "done"
    assert _appointment(world, appointment_id).status == AppointmentStatus.BOOKED
    cancel = world.client("reception").patch(
        f"/api/v1/appointments/{appointment_id}",
        json={"status": "cancelled", "reason": "seen early"},
    )
    assert cancel.status_code == 200, cancel.text
    again = world.client("clinician").get(f"/api/v1/plans/{plan['id']}").json()
    assert again["sessions"][0]["status"] == "done"  # cancelling it did not reopen the session


def test_visit_on_its_appointments_day_marks_both_done_without_warnings(world, stocked, visit_body):
    today = datetime.now(ZoneInfo("Europe/London")).date()
    earlier = datetime.now(UTC) - timedelta(minutes=30)
    if earlier.astimezone(ZoneInfo("Europe/London")).date() != today:
        earlier = datetime.now(UTC)
    plan, session_id, appointment_id = _plan_with_appointment(world, today, earlier)
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        plan_session_id=str(session_id),
    )
    r = _post(world, body)
    assert r.status_code == 201, r.text
    assert _appointment(world, appointment_id).status == AppointmentStatus.DONE
    after = world.client("clinician").get(f"/api/v1/plans/{plan['id']}").json()
    assert after["sessions"][0]["status"] == "done"
