"""Clinic opening days, rooms and closures over the API, and the dashboard panel."""

from __future__ import annotations

from typing import Any

import pytest

from plans.plan_support import at, next_weekday
from support import audit_entries

WEEK = {
    "opening_weekdays": [0, 1, 2, 3, 4],
    "opens_at": "08:30",
    "closes_at": "18:00",
    "rooms": ["Room 1", "Room 2", "Laser room"],
}


def test_defaults_are_monday_to_saturday_with_two_rooms(world: Any) -> None:
    cal = world.client("reception").get("/api/v1/clinic-calendar").json()
    assert cal["opening_weekdays"] == [0, 1, 2, 3, 4, 5]
    assert cal["rooms"] == ["Room 1", "Room 2"] and cal["opens_at"] == "09:00"
    assert cal["timezone"] == "Europe/London"


@pytest.mark.parametrize(
    "persona,status", [("clinician", 200), ("nurse", 403), ("reception", 403), ("patient", 403)]
)
def test_only_clinicians_and_admins_edit_opening_days(
    world: Any, persona: str, status: int
) -> None:
    assert world.client(persona).put("/api/v1/clinic-calendar", json=WEEK).status_code == status


def test_admin_names_the_clinic_and_edits_are_audited(world: Any, anon: Any) -> None:
    admin = world.client("admin")
    assert admin.put("/api/v1/clinic-calendar", json=WEEK).status_code == 422
    r = admin.put(f"/api/v1/clinic-calendar?clinic_id={world.clinic_b.id}", json=WEEK)
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Madrid"
    assert world.client("clinician").get("/api/v1/clinic-calendar").json()["rooms"] == [
        "Room 1",
        "Room 2",
    ]
    assert audit_entries(world.db, action="update", entity_type="clinic_calendar")
    assert anon.get("/api/v1/clinic-calendar").status_code == 401


@pytest.mark.parametrize(
    "change,field",
    [
        ({"opening_weekdays": []}, "opening_weekdays"),
        ({"opening_weekdays": [7]}, "opening_weekdays.0"),
        ({"opens_at": "9am"}, "opens_at"),
        ({"closes_at": "08:00"}, "closes_at"),
        ({"rooms": ["A", "a"]}, "rooms"),
    ],
)
def test_invalid_opening_days_are_refused_naming_the_field(
    world: Any, change: dict[str, Any], field: str
) -> None:
    r = world.client("clinician").put("/api/v1/clinic-calendar", json={**WEEK, **change})
    assert r.status_code == 422 and r.json()["error"]["field"] == field


def test_closures_are_added_once_and_removed(world: Any) -> None:
    client = world.client("clinician")
    day = next_weekday(3).isoformat()
    r = client.post(
        "/api/v1/clinic-calendar/closures", json={"closed_on": day, "reason": "Bank holiday"}
    )
    assert r.status_code == 201
    again = client.post(
        "/api/v1/clinic-calendar/closures", json={"closed_on": day, "reason": "again"}
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "closed_on"
    booked = world.client("reception").post(
        "/api/v1/appointments",
        json={
            "patient_id": str(world.patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": "Room 1",
            "starts_at": at(next_weekday(3), 10),
        },
    )
    assert booked.status_code == 422 and "closed" in booked.json()["error"]["message"]
    assert (
        world.client("clinician_b")
        .delete(f"/api/v1/clinic-calendar/closures/{r.json()['id']}")
        .status_code
        == 404
    )
    assert client.delete(f"/api/v1/clinic-calendar/closures/{r.json()['id']}").status_code == 204
    assert client.get("/api/v1/clinic-calendar").json()["closures"] == []


def test_dashboard_lists_todays_appointments_for_reception(world: Any) -> None:
    page = world.web("reception").get("/")
    assert page.status_code == 200 and "Today&#39;s appointments" in page.text
