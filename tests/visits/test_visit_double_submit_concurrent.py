"""A visit posted twice at the same moment (form, or API with one Idempotency-Key) to a live
server: one visit, stock deducted once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from double_submit_support import api_post, count, form_post, one_created, one_redirect
from mesoclinic.formulary.models import Lot, StockMovement
from mesoclinic.visits.models import Visit

# a live server and threads racing on their own connections
pytestmark = pytest.mark.committed


def _balance(world: Any, lot: Any) -> int:
    with world.db.factory() as s:
        return s.get(Lot, lot.id).balance_ul


def test_visit_form_race_records_one_visit_and_deducts_stock_once(world, stocked, live_server):
    lot = stocked.vitamin_lot
    now = datetime.now(ZoneInfo("Europe/London")) - timedelta(minutes=5)
    fields = {
        "performed_at": now.strftime("%Y-%m-%dT%H:%M"),
        "cocktail_id": str(stocked.vitamin_cocktail.id),
        "lot_id_0": str(lot.id),
        "volume_ml_0": "3",
        "technique": "point_by_point",
        "zones": "vertex",
        "depth_mm": "1.5",
        "points": "60",
        "volume_per_point_ml": "0.05",
        "total_volume_ml": "3",
        "needle_gauge": "30",
        "needle_length_mm": "4",
        "adverse_type": "none",
    }
    url = f"/patients/{world.patient_a.id}/visits"
    one_redirect(form_post(world, live_server, "clinician", url, url, fields))
    assert count(world, Visit, Visit.patient_id == world.patient_a.id) == 1
    assert _balance(world, lot) == 47_000


def test_visit_api_race_records_one_visit_and_deducts_stock_once(
    world, stocked, visit_body, live_server
):
    lot = stocked.vitamin_lot
    body = visit_body(world.other_patient_a, stocked.vitamin_cocktail, lot)
    visit = one_created(api_post(world, live_server, "clinician", "/api/v1/visits", body))
    assert count(world, Visit, Visit.patient_id == world.other_patient_a.id) == 1
    assert _balance(world, lot) == 47_000
    with world.db.factory() as s:
        used = s.execute(
            select(StockMovement.visit_id).where(StockMovement.kind == "used")
        ).scalars()
        assert [str(v) for v in used] == [visit["id"]]
