"""Creates that book a slot or move stock, sent by several threads at the same moment with one
`Idempotency-Key` to a live server: done once, every thread gets the first answer (issue 16,
item 6). Visits: tests/visits/test_visit_double_submit_concurrent.py."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from double_submit_support import RACERS, api_post, count
from drills.drill_world import _stock
from mesoclinic.formulary.models import Lot, StockMovement
from mesoclinic.plans.models import Appointment
from plans.plan_support import at, next_weekday

# a live server and threads racing on their own connections
pytestmark = pytest.mark.committed

LOT_UL = 50_000  # drill_world's lot: 50 mL


def _plan(world: Any) -> str:
    clinician, pid = world.client("clinician"), world.patient_a.id
    signed_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    consent = {"procedure": "mesotherapy", "signed_by": "Ana Silva", "signed_at": signed_at}
    assert clinician.post(f"/api/v1/patients/{pid}/consents", json=consent).status_code == 201
    assessment = {
        "diagnosis": "female_pattern_hair_loss",
        "staging": {"scale": "ludwig", "grade": "I"},
    }
    assert clinician.post(f"/api/v1/patients/{pid}/assessments", json=assessment).status_code == 201
    r = clinician.post(
        f"/api/v1/patients/{pid}/plans",
        json={"protocol_code": "minoxidil", "start_date": next_weekday(1).isoformat()},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _lot_state(world: Any, lot_id: str) -> tuple[int, int]:
    with world.db.factory() as s:
        lot = s.get(Lot, uuid.UUID(lot_id))
        assert lot is not None
        moves = s.execute(
            select(StockMovement).where(
                StockMovement.lot_id == lot.id, StockMovement.kind != "received"
            )
        ).scalars()
        return lot.balance_ul, len(list(moves))


@pytest.mark.parametrize("route", ["appointments", "session-booking", "lot", "waste", "adjust"])
def test_a_slot_or_stock_create_raced_with_one_key_is_done_once(world, live_server, route):
    stock = _stock(world)
    clinician = str(world.users["clinician"].id)
    slot = {"practitioner_id": clinician, "room": "Room 1", "starts_at": at(next_weekday(1), 11)}
    persona, url, body, status = {
        "appointments": (
            "reception",
            "/api/v1/appointments",
            {**slot, "patient_id": str(world.patient_a.id), "duration_minutes": 30},
            201,
        ),
        "session-booking": ("reception", "/api/v1/plans/{plan}/sessions/1/book", slot, 201),
        "lot": (
            "nurse",
            "/api/v1/lots",
            {
                "product_id": None,
                "batch_number": "RACE-1",
                "expires_on": (date.today() + timedelta(days=200)).isoformat(),
                "quantity_ml": 20,
            },
            201,
        ),
        "waste": (
            "nurse",
            f"/api/v1/lots/{stock['lot_id']}/waste",
            {"quantity_ml": 1, "reason": "Dropped"},
            200,
        ),
        "adjust": (
            "nurse",
            f"/api/v1/lots/{stock['lot_id']}/adjust",
            {"quantity_ml": -2, "reason": "Count"},
            200,
        ),
    }[route]
    if route == "session-booking":
        url = url.format(plan=_plan(world))
    if route == "lot":
        with world.db.factory() as s:
            body["product_id"] = str(s.get(Lot, uuid.UUID(stock["lot_id"])).product_id)

    results = api_post(world, live_server, persona, url, body)

    assert [r.status_code for r in results] == [status] * RACERS, [r.text[:200] for r in results]
    assert len({r.text for r in results}) == 1, "every racer gets the first answer"
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in results) == RACERS - 1
    if route in ("appointments", "session-booking"):
        assert count(world, Appointment, Appointment.patient_id == world.patient_a.id) == 1
    elif route == "lot":
        assert count(world, Lot, Lot.batch_number == "RACE-1") == 1
    else:
        change = {"waste": -1000, "adjust": -2000}[route]
        assert _lot_state(world, stock["lot_id"]) == (LOT_UL + change, 1)
