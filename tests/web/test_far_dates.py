"""Dates at the edge of the calendar (year 9999) are refused with a 4xx, never a 500.

Adding a day or a week to 9999-12-31 overflows Python's `date`; every date a person can type
is bounded before any arithmetic is done on it.
"""

from __future__ import annotations

from typing import Any

from plans.plan_support import make_treatable, next_weekday
from support import csrf_from

FAR = "9999-12-31"


def _plan(world: Any) -> dict[str, Any]:
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "meso-prp", "start_date": next_weekday(1).isoformat()},
    )
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    return plan


def test_calendar_pages_refuse_year_9999(world: Any) -> None:
    web = world.web("reception")
    for view in ("day", "week"):
        r = web.get(f"/calendar?view={view}&date={FAR}")
        assert r.status_code == 422, (view, r.status_code)
        assert "Traceback" not in r.text


def test_aftercare_session_check_refuses_year_9999(world: Any) -> None:
    web = world.web("clinician")
    r = web.get(f"/patients/{world.patient_a.id}/aftercare?check_at={FAR}T23:30")
    assert r.status_code == 422
    api = world.client("clinician").get(
        f"/api/v1/patients/{world.patient_a.id}/precaution-conflicts",
        params={"starts_at": f"{FAR}T23:30:00+00:00"},
    )
    assert api.status_code == 422 and api.json()["error"]["field"] == "starts_at"


def test_moving_a_plan_session_to_year_9999_is_refused(world: Any) -> None:
    plan = _plan(world)
    r = world.client("clinician").post(
        f"/api/v1/plans/{plan['id']}/sessions/1/reschedule", json={"new_date": FAR}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "new_date"
    web = world.web("clinician")
    page = web.get(f"/patients/{world.patient_a.id}/plan")
    r = web.post(
        f"/plans/{plan['id']}/sessions/1/reschedule",
        data={"csrf_token": csrf_from(page.text), "new_date": FAR},
    )
    assert r.status_code == 422


def test_a_plan_starting_in_year_9999_is_refused(world: Any) -> None:
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "meso-prp", "start_date": FAR},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "start_date"


def test_booking_in_year_9999_is_refused(world: Any) -> None:
    body = {
        "patient_id": str(world.patient_a.id),
        "practitioner_id": str(world.users["clinician"].id),
        "room": "Room 1",
        "starts_at": f"{FAR}T23:30:00+00:00",
        "duration_minutes": 30,
    }
    r = world.client("reception").post("/api/v1/appointments", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "starts_at"
    web = world.web("reception")
    page = web.get("/calendar")
    r = web.post(
        "/calendar/book",
        data={
            "csrf_token": csrf_from(page.text),
            "date": FAR,
            "time": "23:30",
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
        },
    )
    assert r.status_code == 422
    assert "Traceback" not in r.text


def test_audit_browser_refuses_year_9999(world: Any) -> None:
    r = world.web("admin").get(f"/admin/audit?until={FAR}")
    assert r.status_code == 422
