"""Booking an appointment shows a warning when a declared event falls inside its windows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from plans.plan_support import at, next_weekday
from support import csrf_from


def test_booking_response_carries_precaution_warning_with_safe_date(world: Any) -> None:
    day = next_weekday(weekday=1, weeks_ahead=2)
    colour_day = day + timedelta(days=3)
    r = world.client("patient").post(
        f"/api/v1/patients/{world.patient_a.id}/declared-events",
        json={
            "kind": "hair_colouring",
            "starts_on": colour_day.isoformat(),
            "ends_on": colour_day.isoformat(),
        },
    )
    assert r.status_code == 201
    r = world.client("reception").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
            "starts_at": at(day, 10),
            "duration_minutes": 30,
        },
    )
    assert r.status_code == 201, r.text
    [warning] = r.json()["warnings"]
    assert warning["code"] == "no_hair_colour"
    suggested = date.fromisoformat(warning["suggested_date"])
    assert abs((suggested - colour_day).days) >= 8  # outside the 7-day window either side


def test_booking_without_declared_events_has_no_warnings(world: Any) -> None:
    day = next_weekday(weekday=2, weeks_ahead=2)
    r = world.client("reception").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
            "starts_at": at(day, 11),
            "duration_minutes": 30,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == []


def test_calendar_booking_page_flashes_the_aftercare_warning(world: Any) -> None:
    from urllib.parse import unquote

    day = next_weekday(weekday=3, weeks_ahead=2)
    sauna_day = day + timedelta(days=1)
    assert (
        world.client("nurse")
        .post(
            f"/api/v1/patients/{world.other_patient_a.id}/declared-events",
            json={
                "kind": "sauna",
                "starts_on": sauna_day.isoformat(),
                "ends_on": sauna_day.isoformat(),
            },
        )
        .status_code
        == 201
    )
    web = world.web("reception")
    page = web.get("/calendar").text
    token = csrf_from(page)
    r = web.post(
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
    assert r.status_code == 303
    flash = unquote(r.cookies.get("mc_flash") or "")
    assert flash.startswith("Appointment booked. Aftercare warning: Declared sauna")
