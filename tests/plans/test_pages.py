"""HTML pages: the patient's Plan tab, the reception calendar and the clinic days page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from mesoclinic.plans.models import ClinicClosure, TreatmentPlan
from plans.plan_support import at, make_treatable, next_weekday


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_plan_tab_creates_a_plan_and_shows_dated_sessions(world: Any) -> None:
    make_treatable(world, world.patient_a)
    web = world.web("clinician")
    page = web.get(f"/patients/{world.patient_a.id}/plan")
    assert page.status_code == 200 and "New plan from a protocol" in page.text
    r = web.post(
        f"/patients/{world.patient_a.id}/plan",
        data={
            "csrf_token": csrf(page.text),
            "protocol_code": "meso-prp",
            "start_date": next_weekday(1).isoformat(),
            "activate": "on",
        },
    )
    assert r.status_code == 303
    shown = web.get(f"/patients/{world.patient_a.id}/plan").text
    assert "Mesotherapy + PRP" in shown and shown.count('data-sequence="') == 8
    assert ">PRP</span>" in shown and "Book</a>" in shown


def test_plan_tab_shows_the_gate_findings_when_refused(world: Any) -> None:
    web = world.web("clinician")
    page = web.get(f"/patients/{world.patient_a.id}/plan")
    r = web.post(
        f"/patients/{world.patient_a.id}/plan",
        data={
            "csrf_token": csrf(page.text),
            "protocol_code": "minoxidil",
            "start_date": next_weekday(1).isoformat(),
            "activate": "on",
        },
    )
    assert r.status_code == 422
    assert "consent.missing" in r.text and "assessment.missing" in r.text
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(TreatmentPlan)).scalar_one() == 0


def test_plan_tab_keeps_input_and_names_the_bad_field(world: Any) -> None:
    web = world.web("nurse")
    page = web.get(f"/patients/{world.patient_a.id}/plan")
    r = web.post(
        f"/patients/{world.patient_a.id}/plan",
        data={
            "csrf_token": csrf(page.text),
            "protocol_code": "minoxidil",
            "start_date": "soon",
            "notes": "keep me",
        },
    )
    assert r.status_code == 422 and "keep me" in r.text and "has-error" in r.text


def test_stopping_from_the_plan_tab_needs_a_reason(world: Any) -> None:
    make_treatable(world, world.patient_a)
    plan = (
        world.client("clinician")
        .post(
            f"/api/v1/patients/{world.patient_a.id}/plans",
            json={"protocol_code": "minoxidil", "start_date": next_weekday(1).isoformat()},
        )
        .json()
    )
    web = world.web("clinician")
    token = csrf(web.get(f"/patients/{world.patient_a.id}/plan").text)
    refused = web.post(f"/plans/{plan['id']}/status", data={"csrf_token": token, "action": "stop"})
    assert refused.status_code == 422
    ok = web.post(
        f"/plans/{plan['id']}/status",
        data={"csrf_token": token, "action": "stop", "reason": "side effects"},
    )
    assert ok.status_code == 303
    assert "side effects" in web.get(f"/patients/{world.patient_a.id}/plan").text


def test_patient_sees_their_plan_read_only(world: Any) -> None:
    make_treatable(world, world.patient_a)
    world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "minoxidil", "start_date": next_weekday(1).isoformat()},
    )
    page = world.web("patient").get(f"/patients/{world.patient_a.id}/plan")
    assert page.status_code == 200 and "Minoxidil" in page.text
    assert "Stop plan" not in page.text and "Book</a>" not in page.text
    assert world.web("patient").get(f"/patients/{world.other_patient_a.id}/plan").status_code == 404


def test_calendar_day_and_week_show_appointments_under_their_practitioner(world: Any) -> None:
    day = next_weekday(1)
    world.client("reception").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 2",
            "starts_at": at(day, 10, 30),
            "duration_minutes": 45,
        },
    )
    web = world.web("reception")
    page = web.get(f"/calendar?view=day&date={day.isoformat()}")
    assert page.status_code == 200
    assert "Ana Silva" in page.text and "10:30–11:15" in page.text
    assert 'href="/calendar"' in page.text  # the Calendar navigation item
    week = web.get(f"/calendar?view=week&date={day.isoformat()}")
    assert week.status_code == 200 and "Ana Silva" in week.text
    assert world.web("patient").get("/calendar").status_code == 403


def test_calendar_booking_form_reports_a_double_booking(world: Any) -> None:
    day = next_weekday(1)
    world.client("reception").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
            "starts_at": at(day, 9),
        },
    )
    web = world.web("reception")
    token = csrf(web.get("/calendar").text)
    r = web.post(
        "/calendar/book",
        data={
            "csrf_token": token,
            "patient_id": str(world.other_patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 2",
            "date": day.isoformat(),
            "time": "09:15",
            "view": "day",
        },
    )
    assert r.status_code == 422 and "already booked" in r.text
    ok = web.post(
        "/calendar/book",
        data={
            "csrf_token": token,
            "patient_id": str(world.other_patient_a.id),
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 2",
            "date": day.isoformat(),
            "time": "09:15",
            "view": "day",
        },
    )
    assert ok.status_code == 303


def test_clinic_days_page_edits_opening_days_and_closures(world: Any) -> None:
    web = world.web("clinician")
    page = web.get("/clinic-calendar")
    assert page.status_code == 200 and "Saturday" in page.text
    token = csrf(page.text)
    r = web.post(
        "/clinic-calendar",
        data={
            "csrf_token": token,
            "opening_weekdays": ["0", "2"],
            "opens_at": "08:00",
            "closes_at": "17:30",
            "rooms": "Room A\nRoom B\nRoom C",
        },
    )
    assert r.status_code == 303
    cal = world.client("reception").get("/api/v1/clinic-calendar").json()
    assert cal["opening_weekdays"] == [0, 2] and cal["rooms"] == ["Room A", "Room B", "Room C"]
    closed = next_weekday(2) + timedelta(days=7)
    assert (
        web.post(
            "/clinic-calendar/closures",
            data={"csrf_token": token, "closed_on": closed.isoformat(), "reason": "Staff training"},
        ).status_code
        == 303
    )
    bad = web.post(
        "/clinic-calendar",
        data={"csrf_token": token, "opens_at": "08:00", "closes_at": "07:00", "rooms": "Room A"},
    )
    assert bad.status_code == 422
    assert "Add closure day" not in world.web("reception").get("/clinic-calendar").text
    assert (
        world.client("reception")
        .post(
            "/api/v1/clinic-calendar/closures",
            json={"closed_on": closed.isoformat(), "reason": "x"},
        )
        .status_code
        == 403
    )
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(ClinicClosure)).scalar_one() == 1


def test_plans_skip_a_closure_day(world: Any) -> None:
    make_treatable(world, world.patient_a)
    start = next_weekday(1)
    world.client("admin").post(
        f"/api/v1/clinic-calendar/closures?clinic_id={world.clinic_a.id}",
        json={"closed_on": (start + timedelta(days=7)).isoformat(), "reason": "Bank holiday"},
    )
    plan = (
        world.client("clinician")
        .post(
            f"/api/v1/patients/{world.patient_a.id}/plans",
            json={"protocol_code": "minoxidil", "start_date": start.isoformat()},
        )
        .json()
    )
    assert plan["sessions"][1]["planned_date"] == (start + timedelta(days=8)).isoformat()


def test_calendar_still_lists_appointments_of_a_deactivated_practitioner(world: Any) -> None:
    from mesoclinic.db import unit_of_work
    from mesoclinic.security.models import User

    day = next_weekday(1)
    world.client("reception").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 1",
            "starts_at": at(day, 11),
        },
    )
    with unit_of_work(world.db.factory) as s:
        nurse = s.get(User, world.users["nurse"].id)
        assert nurse is not None
        nurse.active = False
    page = world.web("reception").get(f"/calendar?view=day&date={day.isoformat()}")
    assert "no longer active" in page.text and "Ana Silva" in page.text
