"""A visit recorded for a plan session marks the session, and its appointment, done."""

from __future__ import annotations

import uuid
from typing import Any

from plans.plan_support import at, make_treatable, next_weekday


def _plan(world: Any) -> dict[str, Any]:
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "standard-vitamin", "start_date": next_weekday(0).isoformat()},
    )
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    return plan


def test_visit_for_a_booked_session_marks_session_and_appointment_done(world, stocked, visit_body):
    plan = _plan(world)
    first = plan["sessions"][0]
    booked = world.client("reception").post(
        f"/api/v1/plans/{plan['id']}/sessions/1/book",
        json={
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
            "starts_at": at(next_weekday(0), 10),
        },
    )
    assert booked.status_code == 201, booked.text
    body = visit_body(
        world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot, plan_session_id=first["id"]
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.status_code == 201, r.text
    after = world.client("clinician").get(f"/api/v1/plans/{plan['id']}").json()
    assert after["sessions"][0]["status"] == "done"
    appointment = (
        world.client("reception").get(f"/api/v1/appointments/{booked.json()['id']}").json()
    )
    assert appointment["status"] == "done"
    again = world.client("clinician").post("/api/v1/visits", json=body)
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "plan_session_id"


def test_unknown_or_other_patients_plan_session_is_refused(world, stocked, visit_body):
    plan = _plan(world)
    for session_id in (str(uuid.uuid4()), plan["sessions"][0]["id"]):
        patient = (
            world.patient_a if session_id != plan["sessions"][0]["id"] else world.other_patient_a
        )
        body = visit_body(
            patient, stocked.vitamin_cocktail, stocked.vitamin_lot, plan_session_id=session_id
        )
        r = world.client("clinician").post("/api/v1/visits", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "plan_session_id"


def test_visit_form_offers_the_open_plan_sessions(world, stocked):
    plan = _plan(world)
    page = world.web("clinician").get(f"/patients/{world.patient_a.id}/visits")
    assert 'name="plan_session_id"' in page.text
    assert plan["sessions"][0]["id"] in page.text
