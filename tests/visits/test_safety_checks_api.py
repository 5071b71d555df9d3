"""Each safety check refuses or warns through POST /api/v1/visits, storing nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mesoclinic.formulary.models import Lot, StockMovement
from mesoclinic.visits.models import Visit


def _balance(world: Any, lot: Any) -> int:
    with world.db.factory() as s:
        return s.get(Lot, lot.id).balance_ul


def _visits(world: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(Visit)).scalar_one()


def _rule_ids(r: Any) -> list[str]:
    return [c["rule_id"] for c in r.json()["error"]["checks"]]


def test_typical_visit_is_recorded_and_deducts_stock(world, stocked, visit_body):
    r = world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert r.status_code == 201, r.text
    assert r.json()["lots"][0]["volume_ml"] == 3
    assert _balance(world, stocked.vitamin_lot) == 47_000
    with world.db.factory() as s:
        moves = s.execute(select(StockMovement).where(StockMovement.kind == "used")).scalars()
        assert [str(m.visit_id) for m in moves] == [r.json()["id"]]


def test_expired_lot_is_refused_and_stock_unchanged(world, stocked, visit_body):
    r = world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.expired_lot),
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "safety_check_failed"
    assert "lot.expired" in _rule_ids(r)
    assert _balance(world, stocked.expired_lot) == 10_000
    assert _visits(world) == 0


def test_allergy_to_biotin_is_refused_for_a_biotin_cocktail(world, stocked, visit_body):
    world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/allergies",
        json={"substance": "Biotin", "severity": "moderate"},
    )
    r = world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert r.status_code == 422
    assert "allergy.cocktail_ingredient" in _rule_ids(r)
    assert "contra.cocktail_allergy" not in _rule_ids(r)  # one finding, not two
    assert _balance(world, stocked.vitamin_lot) == 50_000


def test_allergy_recorded_under_an_alias_is_refused(world, stocked, visit_body):
    world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/allergies", json={"substance": "Vitamin B7"}
    )
    r = world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert "allergy.cocktail_ingredient" in _rule_ids(r)


def test_dutasteride_recorded_by_a_nurse_is_refused(world, stocked, visit_body):
    body = visit_body(
        world.other_patient_a,
        stocked.dutasteride_cocktail,
        stocked.dutasteride_lot,
        total_volume_ml=2,
        points=40,
        lots=[{"lot_id": str(stocked.dutasteride_lot.id), "volume_ml": 2}],
    )
    r = world.client("nurse").post("/api/v1/visits", json=body)
    assert r.status_code == 422
    assert "prescription.prescriber_required" in _rule_ids(r)
    assert _balance(world, stocked.dutasteride_lot) == 20_000
    ok = world.client("clinician").post("/api/v1/visits", json=body)
    assert ok.status_code == 201, ok.text


def test_twelve_millilitres_total_is_refused(world, stocked, visit_body):
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        total_volume_ml=12,
        points=120,
        volume_per_point_ml=0.1,
        lots=[{"lot_id": str(stocked.vitamin_lot.id), "volume_ml": 12}],
        confirmed_warnings=["dose.total.atypical"],
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "safety_check_failed"
    assert "dose.total.hard_limit" in _rule_ids(r)
    assert _visits(world) == 0 and _balance(world, stocked.vitamin_lot) == 50_000


def test_three_and_a_half_millilitres_needs_confirmation(world, stocked, visit_body):
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        total_volume_ml=3.5,
        points=35,
        volume_per_point_ml=0.1,
        depth_mm=4.5,
        lots=[{"lot_id": str(stocked.vitamin_lot.id), "volume_ml": 3.5}],
    )
    c = world.client("clinician")
    r = c.post("/api/v1/visits", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "warnings_need_confirmation"
    assert _rule_ids(r) == ["dose.depth.atypical"]
    assert _visits(world) == 0 and _balance(world, stocked.vitamin_lot) == 50_000
    r = c.post("/api/v1/visits", json={**body, "confirmed_warnings": ["dose.depth.atypical"]})
    assert r.status_code == 201, r.text
    assert r.json()["confirmed_warnings"] == ["dose.depth.atypical"]
    assert _balance(world, stocked.vitamin_lot) == 46_500


def test_per_point_and_depth_hard_limits_are_refused(world, stocked, visit_body):
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        depth_mm=7,
        volume_per_point_ml=0.25,
        points=12,
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert {"dose.depth.hard_limit", "dose.per_point.hard_limit"} <= set(_rule_ids(r))


def test_missing_consent_is_refused(world, stocked, visit_body):
    c = world.client("clinician")
    consent = c.get(f"/api/v1/patients/{world.patient_a.id}/consents").json()[0]
    c.post(
        f"/api/v1/patients/{world.patient_a.id}/consents/{consent['id']}/withdraw",
        json={"reason": "changed her mind"},
    )
    r = c.post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert r.status_code == 422 and "consent.missing" in _rule_ids(r)


def test_prp_without_prp_consent_is_refused(world, stocked, visit_body):
    r = world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(
            world.patient_a,
            stocked.vitamin_cocktail,
            stocked.vitamin_lot,
            prp_given=True,
            prp_volume_ml=4,
        ),
    )
    assert "consent.prp_missing" in _rule_ids(r)


def test_new_pregnancy_on_the_day_is_refused(world, stocked, visit_body):
    c = world.client("clinician")
    c.post(f"/api/v1/patients/{world.patient_a.id}/pregnancy-statuses", json={"value": "pregnant"})
    r = c.post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert r.status_code == 422 and "contra.pregnancy" in _rule_ids(r)


def test_new_anticoagulant_is_a_warning_to_confirm(world, stocked, visit_body):
    c = world.client("clinician")
    c.post(
        f"/api/v1/patients/{world.patient_a.id}/medications",
        json={"name": "Apixaban", "category": "anticoagulant"},
    )
    body = visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot)
    r = c.post("/api/v1/visits", json=body)
    assert r.json()["error"]["code"] == "warnings_need_confirmation"
    assert "contra.anticoagulants" in _rule_ids(r)
    r = c.post("/api/v1/visits", json={**body, "confirmed_warnings": _rule_ids(r)})
    assert r.status_code == 201, r.text


def test_recalled_lot_is_refused(world, stocked, visit_body):
    c = world.client("clinician")
    assert (
        c.post(
            f"/api/v1/lots/{stocked.vitamin_lot.id}/recall", json={"reason": "sterility"}
        ).status_code
        == 200
    )
    r = c.post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert "lot.recalled" in _rule_ids(r)


def test_insufficient_lot_is_refused(world, stocked, visit_body):
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.small_lot,
        lots=[{"lot_id": str(stocked.small_lot.id), "volume_ml": 3.5}],
        total_volume_ml=3.5,
        points=70,
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert "lot.insufficient" in _rule_ids(r)
    assert _balance(world, stocked.small_lot) == 3_000


def test_lot_of_another_cocktail_is_refused(world, stocked, visit_body):
    r = world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.dutasteride_lot),
    )
    assert "lot.wrong_product" in _rule_ids(r)


def test_lots_must_cover_the_injected_volume(world, stocked, visit_body):
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        lots=[{"lot_id": str(stocked.vitamin_lot.id), "volume_ml": 1}],
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert "lot.volume_unaccounted" in _rule_ids(r)


def test_hair_colour_within_seven_days_is_a_warning(world, stocked, visit_body):
    from datetime import date, timedelta

    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        hair_colour_last_date=(date.today() - timedelta(days=3)).isoformat(),
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.json()["error"]["code"] == "warnings_need_confirmation"
    assert _rule_ids(r) == ["precaution.hair_colour"]


def test_consent_signed_after_the_visit_does_not_count(world, stocked, visit_body):
    from datetime import UTC, datetime, timedelta

    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        performed_at=(datetime.now(UTC) - timedelta(days=20)).isoformat(),
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.status_code == 422 and "consent.missing" in _rule_ids(r)
