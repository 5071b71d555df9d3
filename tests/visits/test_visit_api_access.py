"""Visit routes: who may record, check, read and void; scoping, invalid input, audit."""

from __future__ import annotations

import uuid

import pytest

from support import audit_entries


def test_reception_cannot_record_or_check_visits(world, stocked, visit_body):
    body = visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot)
    c = world.client("reception")
    assert c.post("/api/v1/visits", json=body).status_code == 403
    assert c.post("/api/v1/visits/check", json=body).status_code == 403
    assert c.get(f"/api/v1/patients/{world.patient_a.id}/visits").status_code == 403


def test_no_credentials_is_401(anon, world, stocked, visit_body):
    body = visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot)
    assert anon.post("/api/v1/visits", json=body).status_code == 401
    assert anon.post("/api/v1/visits/check", json=body).status_code == 401
    assert anon.get(f"/api/v1/visits/{uuid.uuid4()}").status_code == 401


def test_other_clinics_patient_is_404(world, stocked, visit_body):
    body = visit_body(world.patient_b, stocked.vitamin_cocktail, stocked.vitamin_lot)
    assert world.client("clinician").post("/api/v1/visits", json=body).status_code == 404
    created = (
        world.client("clinician")
        .post(
            "/api/v1/visits",
            json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
        )
        .json()
    )
    other = world.client("clinician_b")
    assert other.get(f"/api/v1/visits/{created['id']}").status_code == 404
    assert other.get(f"/api/v1/patients/{world.patient_a.id}/visits").status_code == 404


def test_lot_of_another_clinic_is_404(world, stocked, visit_body):
    from datetime import UTC, datetime

    from mesoclinic.db import unit_of_work
    from mesoclinic.patients import consent as consent_service
    from mesoclinic.patients.schemas import ConsentCreate
    from mesoclinic.security.actor import cli_actor

    with unit_of_work(world.db.factory) as s:
        consent_service.sign(
            s,
            cli_actor(),
            world.patient_b.id,
            ConsentCreate(procedure="mesotherapy", signed_by="Carmen", signed_at=datetime.now(UTC)),
        )
    r = world.client("clinician_b").post(
        "/api/v1/visits",
        json=visit_body(world.patient_b, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    assert r.status_code == 404 and r.json()["error"]["field"] == "lots"


def test_patient_reads_own_visits_only(world, stocked, visit_body):
    created = (
        world.client("clinician")
        .post(
            "/api/v1/visits",
            json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
        )
        .json()
    )
    me = world.client("patient")
    assert me.get(f"/api/v1/visits/{created['id']}").json()["status"] == "completed"
    assert len(me.get(f"/api/v1/patients/{world.patient_a.id}/visits").json()) == 1
    assert me.get(f"/api/v1/patients/{world.other_patient_a.id}/visits").status_code == 404
    assert (
        me.post(
            "/api/v1/visits",
            json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
        ).status_code
        == 403
    )
    assert audit_entries(world.db, action="read", entity_type="visit", entity_id=created["id"])


@pytest.mark.parametrize(
    "override, field",
    [
        ({"zones": ["crown"]}, "zones.0"),
        ({"zones": []}, "zones"),
        ({"technique": "spray"}, "technique"),
        ({"pain_score": 11}, "pain_score"),
        ({"performed_at": "2026-01-01T10:00:00"}, "performed_at"),
        (
            {
                "adverse_events": [
                    {"type": "none"},
                    {"type": "pain", "severity": "mild", "onset": "during", "outcome": "resolved"},
                ]
            },
            "adverse_events",
        ),
        ({"adverse_events": [{"type": "pain"}]}, "adverse_events.0"),
        ({"prp_given": True}, "prp_volume_ml"),
        ({"lots": []}, "lots"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_visit_names_the_field_and_stores_nothing(
    world, stocked, visit_body, override, field
):
    body = visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot, **override)
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field
    assert (
        world.client("clinician").get(f"/api/v1/patients/{world.patient_a.id}/visits").json() == []
    )


def test_future_visit_is_refused(world, stocked, visit_body):
    from datetime import UTC, datetime, timedelta

    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.vitamin_lot,
        performed_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
    )
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "performed_at"


def test_check_endpoint_returns_findings_without_storing(world, stocked, visit_body):
    body = visit_body(
        world.patient_a,
        stocked.vitamin_cocktail,
        stocked.expired_lot,
        total_volume_ml=6,
        points=60,
        volume_per_point_ml=0.1,
        lots=[{"lot_id": str(stocked.expired_lot.id), "volume_ml": 6}],
    )
    r = world.client("nurse").post("/api/v1/visits/check", json=body)
    assert r.status_code == 200
    result = r.json()
    assert result["blocking"] is True
    assert {"lot.expired", "dose.total.atypical"} <= {c["rule_id"] for c in result["checks"]}
    assert result["needs_confirmation"] == ["dose.total.atypical"]
    assert audit_entries(world.db, action="read", entity_type="visit_check")
    assert world.client("nurse").get(f"/api/v1/patients/{world.patient_a.id}/visits").json() == []


def test_void_marks_entered_in_error_once(world, stocked, visit_body):
    c = world.client("clinician")
    created = c.post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    ).json()
    r = c.post(f"/api/v1/visits/{created['id']}/void", json={"reason": "wrong chart"})
    assert r.status_code == 200 and r.json()["status"] == "entered-in-error"
    assert (
        c.post(f"/api/v1/visits/{created['id']}/void", json={"reason": "again"}).status_code == 409
    )
    assert (
        world.client("reception")
        .post(f"/api/v1/visits/{created['id']}/void", json={"reason": "x" * 4})
        .status_code
        == 403
    )
    assert audit_entries(world.db, action="void", entity_id=created["id"])


def test_created_visit_is_audited(world, stocked, visit_body):
    created = (
        world.client("clinician")
        .post(
            "/api/v1/visits",
            json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
        )
        .json()
    )
    entries = audit_entries(world.db, action="create", entity_type="visit", entity_id=created["id"])
    assert entries and entries[0].patient_id == world.patient_a.id


def test_get_visit_service_for_other_areas(world, stocked, visit_body):
    from mesoclinic.visits.service import get_visit

    created = (
        world.client("clinician")
        .post(
            "/api/v1/visits",
            json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
        )
        .json()
    )
    with world.db.factory() as s, s.begin():
        visit = get_visit(s, world.actor("nurse"), uuid.UUID(created["id"]))
        assert visit.performed_at.tzinfo is not None and visit.status == "completed"
        assert visit.clinic_id == world.clinic_a.id
