"""The read functions other areas build on: upcoming appointments and open plans' sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mesoclinic.db import unit_of_work
from mesoclinic.plans import service
from plans.plan_support import at, make_treatable, next_weekday


def test_upcoming_appointments_and_plan_sessions_for_a_patient(world: Any) -> None:
    make_treatable(world, world.patient_a)
    clinician = world.client("clinician")
    plan = clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "minoxidil", "start_date": next_weekday(1).isoformat()},
    ).json()
    booked = clinician.post(
        f"/api/v1/plans/{plan['id']}/sessions/1/book",
        json={
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 1",
            "starts_at": at(next_weekday(1), 9),
        },
    ).json()
    cancelled = clinician.post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["nurse"].id),
            "room": "Room 1",
            "starts_at": at(next_weekday(1), 11),
        },
    ).json()
    clinician.patch(f"/api/v1/appointments/{cancelled['id']}", json={"status": "cancelled"})
    with unit_of_work(world.db.factory) as s:
        upcoming = service.upcoming_appointments(s, world.patient_a.id, after=datetime.now(UTC))
        assert [str(a.id) for a in upcoming] == [booked["id"]]
        assert upcoming[0].plan_session_id is not None
        sessions = service.plan_sessions_for(s, world.patient_a.id)
        assert [x.sequence for x in sessions] == list(range(1, 11))
        assert sessions[0].status == "booked" and str(sessions[0].appointment_id) == booked["id"]
        assert service.plan_sessions_for(s, world.other_patient_a.id) == []
    clinician.post(f"/api/v1/plans/{plan['id']}/stop", json={"reason": "moved away"})
    with unit_of_work(world.db.factory) as s:
        assert service.plan_sessions_for(s, world.patient_a.id) == []
        assert service.upcoming_appointments(s, world.patient_a.id, after=datetime.now(UTC)) == []
