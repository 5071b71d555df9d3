"""Lots and stock: receive, waste, adjust, never below zero, alerts, recall and recipients."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from support import audit_entries


def _receive(c: Any, product: dict[str, Any], batch: str, ml: float, days: int) -> Any:
    r = c.post(
        "/api/v1/lots",
        json={
            "product_id": product["id"],
            "batch_number": batch,
            "quantity_ml": ml,
            "expires_on": (date.today() + timedelta(days=days)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _expire(world: Any, lot_id: str) -> None:
    """Let time pass: the lot expired yesterday."""
    import uuid

    from mesoclinic.db import unit_of_work
    from mesoclinic.formulary.models import Lot

    with unit_of_work(world.db.factory) as s:
        s.get(Lot, uuid.UUID(lot_id)).expires_on = date.today() - timedelta(days=1)


def test_receive_waste_and_adjust_keep_a_running_balance(world, product):
    c = world.client("nurse")
    lot = _receive(c, product, "B1", 20, 200)
    assert lot["balance_ml"] == 20 and lot["clinic_id"] == str(world.clinic_a.id)
    assert (
        c.post(
            f"/api/v1/lots/{lot['id']}/waste", json={"quantity_ml": 5, "reason": "vial dropped"}
        ).json()["balance_ml"]
        == 15
    )
    assert (
        c.post(
            f"/api/v1/lots/{lot['id']}/adjust", json={"quantity_ml": -1.5, "reason": "count"}
        ).json()["balance_ml"]
        == 13.5
    )
    moves = c.get(f"/api/v1/lots/{lot['id']}/movements").json()
    assert [(m["kind"], m["balance_after_ml"]) for m in moves] == [
        ("received", 20),
        ("wasted", 15),
        ("adjusted", 13.5),
    ]
    assert audit_entries(world.db, action="waste", entity_id=lot["id"])


def test_stock_never_goes_negative(world, product):
    c = world.client("nurse")
    lot = _receive(c, product, "B1", 2, 200)
    r = c.post(f"/api/v1/lots/{lot['id']}/waste", json={"quantity_ml": 3, "reason": "oops"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "insufficient_stock"
    assert c.get(f"/api/v1/lots/{lot['id']}").json()["balance_ml"] == 2
    assert len(c.get(f"/api/v1/lots/{lot['id']}/movements").json()) == 1


def test_same_batch_twice_is_a_conflict(world, product):
    c = world.client("nurse")
    _receive(c, product, "B1", 2, 200)
    r = c.post(
        "/api/v1/lots",
        json={
            "product_id": product["id"],
            "batch_number": "B1",
            "quantity_ml": 5,
            "expires_on": "2030-01-01",
        },
    )
    assert r.status_code == 409 and r.json()["error"]["field"] == "batch_number"


def test_invalid_receive_names_the_field_and_stores_nothing(world, product):
    c = world.client("nurse")
    r = c.post(
        "/api/v1/lots",
        json={
            "product_id": product["id"],
            "batch_number": "B1",
            "quantity_ml": -5,
            "expires_on": "2030-01-01",
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "quantity_ml"
    assert c.get("/api/v1/lots").json() == []


def test_alerts_list_expiring_expired_and_low_stock(world, product):
    c = world.client("nurse")
    _receive(c, product, "SOON", 4, 10)
    old = _receive(c, product, "OLD", 3, 5)
    _expire(world, old["id"])
    kinds = sorted(a["kind"] for a in c.get("/api/v1/stock/alerts").json())
    assert kinds == ["expired", "expiring", "low_stock"]
    c.post(f"/api/v1/lots/{old['id']}/recall", json={"reason": "notice"})
    kinds = sorted(a["kind"] for a in c.get("/api/v1/stock/alerts").json())
    assert kinds == ["expiring", "low_stock", "recalled"]


def test_other_clinic_cannot_see_or_change_a_lot(world, product):
    lot = _receive(world.client("nurse"), product, "B1", 5, 100)
    other = world.client("clinician_b")
    assert other.get(f"/api/v1/lots/{lot['id']}").status_code == 404
    assert (
        other.post(f"/api/v1/lots/{lot['id']}/recall", json={"reason": "not mine"}).status_code
        == 404
    )
    assert other.get("/api/v1/lots").json() == []


@pytest.mark.parametrize("persona", ["reception", "patient"])
def test_stock_changes_need_clinical_staff(world, product, persona):
    lot = _receive(world.client("nurse"), product, "B1", 5, 100)
    c = world.client(persona)
    assert (
        c.post(
            f"/api/v1/lots/{lot['id']}/waste", json={"quantity_ml": 1, "reason": "x" * 5}
        ).status_code
        == 403
    )
    assert c.post(f"/api/v1/lots/{lot['id']}/recall", json={"reason": "xxxx"}).status_code == 403


def test_recall_report_lists_every_patient_and_visit_as_json_and_csv(world, product):
    c = world.client("clinician")
    lot = _receive(c, product, "RC-1", 20, 100)
    signed = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    for patient in (world.patient_a, world.other_patient_a):
        c.post(
            f"/api/v1/patients/{patient.id}/consents",
            json={"procedure": "mesotherapy", "signed_by": "x", "signed_at": signed},
        )
        r = c.post(
            "/api/v1/visits",
            json={
                "patient_id": str(patient.id),
                "performed_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
                "cocktail_id": product["cocktail_id"],
                "lots": [{"lot_id": lot["id"], "volume_ml": 3}],
                "technique": "nappage",
                "zones": ["vertex"],
                "depth_mm": 1.5,
                "points": 60,
                "volume_per_point_ml": 0.05,
                "total_volume_ml": 3,
                "needle_gauge": 30,
                "needle_length_mm": 4,
                "adverse_events": [{"type": "none"}],
            },
        )
        assert r.status_code == 201, r.text
    assert c.post(f"/api/v1/lots/{lot['id']}/recall", json={"reason": "sterility"}).json()[
        "recalled_at"
    ]
    rows = c.get(f"/api/v1/lots/{lot['id']}/recipients").json()
    assert sorted(r["patient_name"] for r in rows) == ["Ana Silva", "Bruno Costa"]
    assert all(r["volume_ml"] == 3 for r in rows)
    csv = c.get(f"/api/v1/lots/{lot['id']}/recipients.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("performed_at,record_number,patient_name") and len(lines) == 3
    assert len(audit_entries(world.db, action="export", entity_id=lot["id"])) == 2
    again = c.post(f"/api/v1/lots/{lot['id']}/recall", json={"reason": "again"})
    assert again.status_code == 409


def test_recall_report_page_offers_the_csv(world, product):
    lot = _receive(world.client("nurse"), product, "RC-2", 5, 100)
    web = world.web("nurse")
    page = web.get(f"/stock/lots/{lot['id']}/recipients")
    assert page.status_code == 200 and f"/api/v1/lots/{lot['id']}/recipients.csv" in page.text
    assert web.get(f"/api/v1/lots/{lot['id']}/recipients.csv").status_code == 200


def test_an_already_expired_lot_cannot_be_received(world, product):
    r = world.client("nurse").post(
        "/api/v1/lots",
        json={
            "product_id": product["id"],
            "batch_number": "OLD",
            "quantity_ml": 5,
            "expires_on": (date.today() - timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "expires_on"
