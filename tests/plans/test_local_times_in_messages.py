"""Times a person reads in a message are the clinic's local time, never UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from plans.plan_support import next_weekday

MADRID = ZoneInfo("Europe/Madrid")  # clinic B: one or two hours ahead of UTC


def _book(world: Any, starts_at: datetime, room: str) -> Any:
    return world.client("clinician_b").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_b.id),
            "practitioner_id": str(world.users["clinician_b"].id),
            "room": room,
            "starts_at": starts_at.isoformat(),
            "duration_minutes": 30,
        },
    )


def test_double_booking_refusal_names_the_other_appointment_in_clinic_time(world):
    day = next_weekday(1)
    ten = datetime(day.year, day.month, day.day, 10, 0, tzinfo=MADRID)
    assert _book(world, ten, "Room 1").status_code == 201
    r = _book(world, ten.replace(minute=15), "Room 2")
    assert r.status_code == 409, r.text
    message = r.json()["error"]["message"]
    assert f"{ten:%d %b %Y} 10:00 {ten:%Z}" in message, message
    assert "UTC" not in message
