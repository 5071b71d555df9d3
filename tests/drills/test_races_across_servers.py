"""Drills kept in the suite (issue 16): the booking and stock races across two real server
processes on one database (several servers may run; on SQLite two processes share the file):
concurrent bookings of one slot give one winner; concurrent visits drawing the last units of one
lot never take it below zero, and every acknowledged visit is stored and deducted exactly once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from drills.drill_world import _stock
from drills.test_kill9 import _free_port, _serve, _wait_until_up
from mesoclinic.db import unit_of_work
from mesoclinic.formulary import stock
from mesoclinic.formulary.models import Lot, StockMovement
from mesoclinic.formulary.schemas import LotReceive
from mesoclinic.plans.models import Appointment
from mesoclinic.security.actor import cli_actor
from mesoclinic.visits.models import Visit
from plans.plan_support import at, next_weekday

pytestmark = pytest.mark.committed  # server processes see only committed data

ATTEMPTS = 12


@contextmanager
def _two_servers(db: Any, tmp_path: Path) -> Iterator[list[str]]:
    """Two `mesoclinic serve` processes on one database; yields their base URLs."""
    ports = [_free_port(), _free_port()]
    for p in ports:
        (tmp_path / str(p)).mkdir()
    servers = [_serve(db, tmp_path / str(p), p) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            _wait_until_up(url, server)
        yield urls
    finally:
        for server in servers:
            server.kill()
            server.wait(timeout=30)


def _race(
    urls: list[str], token: str, n: int, send: Callable[[httpx.Client, int], Any]
) -> list[Any]:
    """Call `send(client, i)` from n threads released at once, alternating between servers."""
    start = threading.Barrier(n)

    def one(i: int) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=urls[i % 2], headers=headers, timeout=120) as client:
            start.wait()
            return send(client, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_bookings_of_one_slot_on_two_servers_give_one_winner(world: Any, db, tmp_path):
    body = {
        "patient_id": str(world.patient_a.id),
        "practitioner_id": str(world.users["clinician"].id),
        "room": "Room 1",
        "starts_at": at(next_weekday(1), 10),
        "duration_minutes": 30,
    }
    with _two_servers(db, tmp_path) as urls:
        codes = sorted(
            _race(
                urls,
                world.tokens["reception"],
                ATTEMPTS,
                lambda c, i: c.post("/api/v1/appointments", json=body).status_code,
            )
        )
    assert codes == [201] + [409] * (ATTEMPTS - 1), codes
    with db.factory() as s:
        assert s.execute(select(func.count()).select_from(Appointment)).scalar_one() == 1


VISITS = 6
LOT_ML, VISIT_ML = 5, 2  # room for two visits; the third would take the lot below zero


def _patients_with_consent(world: Any, n: int) -> list[str]:
    reception, clinician = world.client("reception"), world.client("clinician")
    signed_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    made = []
    for i in range(n):
        r = reception.post(
            "/api/v1/patients",
            json={
                "given_name": f"Racer{i}",
                "family_name": "Stock",
                "birth_date": "1985-05-05",
                "sex": "female",
            },
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        consent = {"procedure": "mesotherapy", "signed_by": "Self", "signed_at": signed_at}
        c = clinician.post(f"/api/v1/patients/{pid}/consents", json=consent)
        assert c.status_code == 201, c.text
        made.append(pid)
    return made


def _small_lot(world: Any, big_lot_id: str) -> uuid.UUID:
    with unit_of_work(world.db.factory) as s:
        big = s.get(Lot, uuid.UUID(big_lot_id))
        assert big is not None
        lot = stock.receive(
            s,
            cli_actor("drill-setup"),
            LotReceive(
                product_id=big.product_id,
                batch_number="LAST-UNITS",
                expires_on=date.today() + timedelta(days=200),
                quantity_ml=LOT_ML,
            ),
            world.clinic_a.id,
        )
        return lot.id


def test_concurrent_visits_for_the_last_units_of_a_lot_on_two_servers(world: Any, db, tmp_path):
    made = _stock(world)
    lot_id = _small_lot(world, made["lot_id"])
    patients = _patients_with_consent(world, VISITS)
    performed = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()

    def visit(client: httpx.Client, i: int) -> httpx.Response:
        body = {
            "patient_id": patients[i],
            "performed_at": performed,
            "cocktail_id": made["cocktail_id"],
            "lots": [{"lot_id": str(lot_id), "volume_ml": VISIT_ML}],
            "technique": "point_by_point",
            "zones": ["vertex"],
            "depth_mm": 1.5,
            "points": 40,
            "volume_per_point_ml": 0.05,
            "total_volume_ml": VISIT_ML,
            "needle_gauge": 30,
            "needle_length_mm": 4,
            "pain_score": 3,
            "adverse_events": [{"type": "none"}],
        }
        return client.post("/api/v1/visits", json=body)

    with _two_servers(db, tmp_path) as urls:
        results = _race(urls, world.tokens["clinician"], VISITS, visit)

    codes = sorted(r.status_code for r in results)
    assert codes == [201] * (LOT_ML // VISIT_ML) + [422] * (VISITS - LOT_ML // VISIT_ML), [
        r.text[:300] for r in results
    ]
    for refused in (r for r in results if r.status_code != 201):
        error = refused.json()["error"]
        assert "lot.insufficient" in [c["rule_id"] for c in error["checks"]], error
        assert error["message"] and all(c["reason"] for c in error["checks"])
    acknowledged = {r.json()["id"] for r in results if r.status_code == 201}
    with db.factory() as s:
        lot = s.get(Lot, lot_id)
        assert lot is not None
        assert lot.balance_ul == (LOT_ML - VISIT_ML * len(acknowledged)) * 1000 >= 0
        used = s.execute(
            select(StockMovement.visit_id, StockMovement.quantity_ul).where(
                StockMovement.lot_id == lot_id, StockMovement.kind == "used"
            )
        ).all()
        assert sorted(str(v) for v, _ in used) == sorted(acknowledged)  # each exactly once
        assert all(q == -VISIT_ML * 1000 for _, q in used)
        stored = s.execute(select(Visit.id).where(Visit.id.in_(uuid.UUID(v) for v in acknowledged)))
        assert len(stored.all()) == len(acknowledged)
        # the balance after each movement never went below zero
        after = s.execute(
            select(StockMovement.balance_after_ul).where(StockMovement.lot_id == lot_id)
        ).scalars()
        assert min(after) >= 0
