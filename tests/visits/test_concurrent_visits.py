"""Two visits drawing the last stock of a lot at the same moment: exactly one succeeds."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.formulary.models import Lot, StockMovement

# threads race on their own connections
pytestmark = pytest.mark.committed


def test_two_visits_for_the_last_stock_one_succeeds_and_balance_never_negative(
    world, stocked, visit_body
):
    lot = stocked.small_lot  # 3 mL left; each visit needs 2 mL
    bodies = [
        visit_body(
            p,
            stocked.vitamin_cocktail,
            lot,
            total_volume_ml=2,
            points=40,
            lots=[{"lot_id": str(lot.id), "volume_ml": 2}],
        )
        for p in (world.patient_a, world.other_patient_a)
    ]
    clients = [world.client("clinician"), world.client("nurse")]
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def post(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].post("/api/v1/visits", json=bodies[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 422], [r.text for r in results]
    refused = next(r for r in results if r.status_code == 422).json()["error"]
    assert "lot.insufficient" in [c["rule_id"] for c in refused["checks"]]
    with world.db.factory() as s:
        assert s.get(Lot, lot.id).balance_ul == 1_000
        moves = s.execute(select(StockMovement).where(StockMovement.lot_id == lot.id)).scalars()
        assert sorted(m.quantity_ul for m in moves) == [-2_000, 3_000]
