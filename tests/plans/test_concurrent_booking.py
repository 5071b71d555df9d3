"""Twenty simultaneous bookings of the same practitioner slot: exactly one wins.

Each thread has its own TestClient, so each request runs the whole ASGI stack (dependencies,
transaction, error handler) on its own event loop, truly in parallel against the database.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mesoclinic.plans.models import Appointment, BookingSlot
from plans.plan_support import at, next_weekday

ATTEMPTS = 20

# threads race on their own connections
pytestmark = pytest.mark.committed


def test_twenty_concurrent_bookings_of_one_slot_give_one_201_and_nineteen_409(world: Any) -> None:
    start = threading.Barrier(ATTEMPTS)
    rooms = ["Room 1", "Room 2"]
    token = world.tokens["reception"]

    def attempt(i: int) -> Any:
        body = {
            "patient_id": str(world.patient_a.id if i % 2 else world.other_patient_a.id),
            "practitioner_id": str(world.users["clinician"].id),
            "room": rooms[i % 2],
            "starts_at": at(next_weekday(2), 11),
            "duration_minutes": 30,
        }
        client = TestClient(world.app, base_url="https://testserver")
        client.headers["Authorization"] = f"Bearer {token}"
        start.wait()
        return client.post("/api/v1/appointments", json=body)

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        responses = list(pool.map(attempt, range(ATTEMPTS)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (ATTEMPTS - 1), [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "double_booking"
    }
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(Appointment)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(BookingSlot)).scalar_one() == 12
