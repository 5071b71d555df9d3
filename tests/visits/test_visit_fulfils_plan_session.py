"""A visit names a plan session of its own patient (marking done: test_visit_interval.py)."""

from __future__ import annotations

import uuid
from typing import Any

from plans.plan_support import make_treatable, next_weekday


def _plan(world: Any) -> dict[str, Any]:
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "standard-vitamin", "start_date": next_weekday(0).isoformat()},
    )
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    return plan


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
