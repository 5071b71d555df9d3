"""The visit form offers only usable lots and marks those about to expire."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from mesoclinic.db import unit_of_work
from mesoclinic.formulary import stock
from mesoclinic.formulary.models import Lot
from mesoclinic.formulary.schemas import LotReceive
from mesoclinic.security.actor import cli_actor


def _option(page: str, batch: str) -> str | None:
    found = re.search(rf"<option [^>]*>[^<]*· {re.escape(batch)} ·[^<]*</option>", page)
    return found.group(0) if found else None


def _receive(world: Any, product_id: Any, batch: str, expires: date) -> Any:
    with unit_of_work(world.db.factory) as s:
        lot = stock.receive(
            s,
            cli_actor("test"),
            LotReceive(
                product_id=product_id, batch_number=batch, expires_on=expires, quantity_ml=5
            ),
            world.clinic_a.id,
        )
        return lot.id


def test_expired_and_recalled_lots_are_not_offered_and_near_expiry_is_marked(world, stocked):
    product_id = stocked.vitamin_lot.product_id
    soon = _receive(world, product_id, "VH-SOON", date.today() + timedelta(days=5))
    recalled = _receive(world, product_id, "VH-RECALL", date.today() + timedelta(days=300))
    with unit_of_work(world.db.factory) as s:
        stock.recall(s, cli_actor("test"), recalled, "supplier recall notice")
        assert s.get(Lot, soon) is not None
    page = world.web("clinician").get(f"/patients/{world.patient_a.id}/visits").text
    assert _option(page, "VH-OLD") is None  # expired two days ago
    assert _option(page, "VH-RECALL") is None
    marked = _option(page, "VH-SOON")
    assert marked is not None and "EXPIRES SOON" in marked and 'data-expiring="1"' in marked
    usable = _option(page, "VH-100")
    assert usable is not None and "EXPIRES SOON" not in usable


def test_lots_for_visit_keeps_only_the_patients_clinic(world, stocked):
    with world.db.factory() as s:
        choices = stock.lots_for_visit(
            s,
            world.actor("admin"),
            clinic_id=world.clinic_b.id,
            today=date.today(),
            expiry_alert_days=30,
        )
    assert choices == []
