"""Drill kept in the suite (issue 16): the booking race across two real server processes on one
database (several servers may run): concurrent bookings of one slot, exactly one wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from drills.test_kill9 import _free_port, _serve, _wait_until_up
from mesoclinic.plans.models import Appointment
from plans.plan_support import at, next_weekday

pytestmark = pytest.mark.committed  # server processes see only committed data

ATTEMPTS = 12


def test_concurrent_bookings_of_one_slot_on_two_servers_give_one_winner(world: Any, db, tmp_path):
    ports = [_free_port(), _free_port()]
    for p in ports:
        (tmp_path / str(p)).mkdir()
    servers = [_serve(db, tmp_path / str(p), p) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    start = threading.Barrier(ATTEMPTS)
    body = {
        "patient_id": str(world.patient_a.id),
        "practitioner_id": str(world.users["clinician"].id),
        "room": "Room 1",
        "starts_at": at(next_weekday(1), 10),
        "duration_minutes": 30,
    }

    def book(i: int) -> int:
        headers = {"Authorization": f"Bearer {world.tokens['reception']}"}
        with httpx.Client(base_url=urls[i % 2], headers=headers, timeout=60) as client:
            start.wait()
            return client.post("/api/v1/appointments", json=body).status_code

    try:
        for url, server in zip(urls, servers, strict=True):
            _wait_until_up(url, server)
        with ThreadPoolExecutor(ATTEMPTS) as pool:
            codes = sorted(pool.map(book, range(ATTEMPTS)))
    finally:
        for server in servers:
            server.kill()
            server.wait(timeout=30)
    assert codes == [201] + [409] * (ATTEMPTS - 1), codes
    with db.factory() as s:
        assert s.execute(select(func.count()).select_from(Appointment)).scalar_one() == 1
