"""Appointments over the API: booking rules, double booking, status changes, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mesoclinic.plans.models import Appointment, BookingSlot
from plans.plan_support import at, make_treatable, next_weekday
from support import audit_entries


def booking(world: Any, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": str(world.patient_a.id),
        "practitioner_id": str(world.users["clinician"].id),
        "room": "Room 1",
        "starts_at": at(next_weekday(1), 10),
        "duration_minutes": 30,
    }
    body.update(overrides)
    return body


def book(world: Any, persona: str = "reception", **overrides: Any) -> Any:
    return world.client(persona).post("/api/v1/appointments", json=booking(world, **overrides))


def book_first_session(world: Any, client: Any, plan: dict[str, Any]) -> Any:
    """Book the plan's first session with the nurse in Room 1, next week at 09:00."""
    return client.post(
        f"/api/v1/plans/{plan['id']}/sessions/1/book",
        json={
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 1",
            "starts_at": at(next_weekday(1), 9),
        },
    ).json()


def counts(world: Any) -> tuple[int, int]:
    with world.db.factory() as s:
        return (
            s.execute(select(func.count()).select_from(Appointment)).scalar_one(),
            s.execute(select(func.count()).select_from(BookingSlot)).scalar_one(),
        )


@pytest.mark.parametrize("persona", ["reception", "clinician", "nurse", "admin"])
def test_staff_book_an_appointment(world: Any, persona: str) -> None:
    r = book(world, persona)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "booked" and body["room"] == "Room 1"
    assert datetime.fromisoformat(body["starts_at"]).utcoffset() == timedelta(0)
    assert counts(world) == (1, 12)  # 6 five-minute slots each for practitioner and room
    assert audit_entries(world.db, action="create", entity_type="appointment")


@pytest.mark.parametrize("persona,status", [("patient", 403), ("clinician_b", 404)])
def test_booking_is_refused_to_patients_and_other_clinics(
    world: Any, persona: str, status: int
) -> None:
    assert book(world, persona).status_code == status
    assert counts(world) == (0, 0)


def test_booking_needs_credentials(world: Any, anon: Any) -> None:
    assert anon.post("/api/v1/appointments", json=booking(world)).status_code == 401
    assert (
        anon.get(
            "/api/v1/appointments?start=2030-01-01T00:00:00Z&end=2030-01-02T00:00:00Z"
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"starts_at": "2030-01-08T10:00:00"}, "starts_at"),  # no time zone
        ({"starts_at": "2030-01-08T10:02:00Z"}, "starts_at"),  # not on a 5-minute mark
        ({"duration_minutes": 7}, "duration_minutes"),
        ({"room": "Broom cupboard"}, "room"),
        ({"practitioner_id": "reception"}, "practitioner_id"),
        ({"starts_at": "sunday"}, "starts_at"),
        ({"starts_at": "late"}, "starts_at"),
        ({"starts_at": "past"}, "starts_at"),
    ],
)
def test_invalid_bookings_are_refused_naming_the_field(
    world: Any, overrides: dict[str, Any], field: str
) -> None:
    special = {
        "reception": str(world.users["reception"].id),
        "sunday": at(next_weekday(6), 10),
        "late": at(next_weekday(1), 18, 45),
        "past": at(datetime.now(UTC).date() - timedelta(days=2), 10),
    }
    body = {k: special.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    r = book(world, **body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert counts(world) == (0, 0)


def test_the_same_practitioner_cannot_be_double_booked(world: Any) -> None:
    assert book(world).status_code == 201
    r = book(
        world,
        room="Room 2",
        starts_at=at(next_weekday(1), 10, 15),
        patient_id=str(world.other_patient_a.id),
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "double_booking"
    assert r.json()["error"]["field"] == "practitioner_id"
    assert counts(world) == (1, 12)


def test_the_same_room_cannot_be_double_booked(world: Any) -> None:
    assert book(world).status_code == 201
    r = book(
        world,
        practitioner_id=str(world.users["nurse"].id),
        starts_at=at(next_weekday(1), 9, 45),
        duration_minutes=20,
    )
    assert r.status_code == 409 and r.json()["error"]["field"] == "room"


def test_back_to_back_appointments_are_allowed(world: Any) -> None:
    assert book(world).status_code == 201
    assert book(world, starts_at=at(next_weekday(1), 10, 30)).status_code == 201
    assert book(world, starts_at=at(next_weekday(1), 9, 30)).status_code == 201


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_cancelled_and_no_show_appointments_free_their_slot(world: Any, status: str) -> None:
    first = book(world).json()
    r = world.client("reception").patch(
        f"/api/v1/appointments/{first['id']}", json={"status": status, "reason": "patient phoned"}
    )
    assert r.status_code == 200 and r.json()["status"] == status
    assert book(world).status_code == 201


def test_status_changes_follow_the_visit(world: Any) -> None:
    client = world.client("reception")
    appointment = book(world).json()
    url = f"/api/v1/appointments/{appointment['id']}"
    assert client.patch(url, json={"status": "arrived"}).json()["status"] == "arrived"
    assert client.patch(url, json={"status": "no_show"}).status_code == 409
    assert client.patch(url, json={"status": "done"}).json()["status"] == "done"
    r = client.patch(url, json={"status": "cancelled"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert client.patch(url, json={"status": "lost"}).status_code == 422
    assert world.client("patient").patch(url, json={"status": "cancelled"}).status_code == 403


def test_appointments_are_listed_by_range_in_scope(world: Any) -> None:
    mine = book(world).json()
    book(world, patient_id=str(world.other_patient_a.id), starts_at=at(next_weekday(1), 11))
    day = next_weekday(1)
    query = (
        f"?start={day.isoformat()}T00:00:00Z&end={(day + timedelta(days=1)).isoformat()}T00:00:00Z"
    )
    assert len(world.client("reception").get("/api/v1/appointments" + query).json()) == 2
    assert [
        a["id"] for a in world.client("patient").get("/api/v1/appointments" + query).json()
    ] == [mine["id"]]
    assert world.client("clinician_b").get("/api/v1/appointments" + query).json() == []
    assert world.client("patient").get(f"/api/v1/appointments/{mine['id']}").status_code == 200
    assert world.client("clinician_b").get(f"/api/v1/appointments/{mine['id']}").status_code == 404
    bad = world.client("reception").get(
        "/api/v1/appointments?start=2030-01-01T00:00:00&end=2030-01-02T00:00:00Z"
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "start"
    assert audit_entries(world.db, action="search", entity_type="appointment")


def plan_for(world: Any) -> dict[str, Any]:
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "meso-prp", "start_date": next_weekday(1).isoformat()},
    )
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    return plan


def test_booking_a_plan_session_links_it_and_cancelling_unlinks_it(world: Any) -> None:
    plan = plan_for(world)
    first = plan["sessions"][0]
    client = world.client("reception")
    r = client.post(
        f"/api/v1/plans/{plan['id']}/sessions/1/book",
        json={
            "practitioner_id": str(world.users["nurse"].id),
            "room": "room 2",
            "starts_at": at(next_weekday(1), 14),
        },
    )
    assert r.status_code == 201, r.text
    appointment = r.json()
    assert appointment["duration_minutes"] == 60  # the first meso-prp session includes PRP
    assert appointment["plan_session_id"] == first["id"] and appointment["room"] == "Room 2"
    session = client.get(f"/api/v1/plans/{plan['id']}").json()["sessions"][0]
    assert session["status"] == "booked" and session["appointment_id"] == appointment["id"]
    again = client.post(
        f"/api/v1/plans/{plan['id']}/sessions/1/book",
        json={
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
            "starts_at": at(next_weekday(1), 9),
        },
    )
    assert again.status_code == 409
    client.patch(f"/api/v1/appointments/{appointment['id']}", json={"status": "cancelled"})
    session = client.get(f"/api/v1/plans/{plan['id']}").json()["sessions"][0]
    assert session["status"] == "planned" and session["appointment_id"] is None


def test_a_no_show_marks_the_session_missed_and_it_can_be_rescheduled(world: Any) -> None:
    plan = plan_for(world)
    client = world.client("reception")
    appointment = book_first_session(world, client, plan)
    client.patch(f"/api/v1/appointments/{appointment['id']}", json={"status": "no_show"})
    assert client.get(f"/api/v1/plans/{plan['id']}").json()["sessions"][0]["status"] == "missed"
    later = next_weekday(1, weeks_ahead=2).isoformat()
    r = world.client("clinician").post(
        f"/api/v1/plans/{plan['id']}/sessions/1/reschedule", json={"new_date": later}
    )
    assert r.status_code == 200 and r.json()["sessions"][0]["status"] == "planned"
    assert r.json()["sessions"][0]["planned_date"] == later


def test_booking_a_session_outside_its_window_is_refused(world: Any) -> None:
    plan = plan_for(world)
    second = plan["sessions"][1]
    too_late = datetime.fromisoformat(second["window_end"]).date() + timedelta(days=7)
    while too_late.weekday() == 6:
        too_late += timedelta(days=1)
    r = world.client("reception").post(
        f"/api/v1/plans/{plan['id']}/sessions/2/book",
        json={
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 1",
            "starts_at": at(too_late, 9),
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "starts_at"
    assert counts(world) == (0, 0)


def test_stopping_a_plan_cancels_its_booked_appointments(world: Any) -> None:
    plan = plan_for(world)
    client = world.client("reception")
    appointment = book_first_session(world, client, plan)
    world.client("clinician").post(
        f"/api/v1/plans/{plan['id']}/stop", json={"reason": "moved abroad"}
    )
    cancelled = client.get(f"/api/v1/appointments/{appointment['id']}").json()
    assert cancelled["status"] == "cancelled"
    assert counts(world) == (1, 0)


def test_booking_a_session_on_another_day_in_its_window_moves_it_and_later_ones(world: Any) -> None:
    plan = plan_for(world)
    second = plan["sessions"][1]
    planned = datetime.fromisoformat(second["planned_date"]).date()
    later = planned + timedelta(days=2)
    assert later <= datetime.fromisoformat(second["window_end"]).date()
    r = world.client("reception").post(
        f"/api/v1/plans/{plan['id']}/sessions/2/book",
        json={
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 1",
            "starts_at": at(later, 12),
        },
    )
    assert r.status_code == 201, r.text
    sessions = world.client("reception").get(f"/api/v1/plans/{plan['id']}").json()["sessions"]
    assert sessions[1]["planned_date"] == later.isoformat() and sessions[1]["status"] == "booked"
    third = datetime.fromisoformat(sessions[2]["planned_date"]).date()
    assert (third - later).days >= sessions[2]["min_gap_days"]
    assert audit_entries(world.db, action="reschedule", entity_type="treatment_plan")
