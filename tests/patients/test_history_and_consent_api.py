"""Medical history entries and procedure-specific consents."""

from __future__ import annotations

from support import audit_entries


def test_history_entries_are_recorded_listed_and_voided(world):
    c = world.client("nurse")
    base = f"/api/v1/patients/{world.patient_a.id}"
    allergy = c.post(f"{base}/allergies", json={"substance": "biotin", "severity": "moderate"})
    assert allergy.status_code == 201
    assert (
        c.post(
            f"{base}/medications", json={"name": "Warfarin", "category": "anticoagulant"}
        ).status_code
        == 201
    )
    assert (
        c.post(
            f"{base}/conditions", json={"name": "Type 2 diabetes", "kind": "diabetes"}
        ).status_code
        == 201
    )
    assert c.post(f"{base}/pregnancy-statuses", json={"value": "pregnant"}).status_code == 201
    history = c.get(f"{base}/history").json()
    assert history["allergies"][0]["substance"] == "biotin"
    assert history["medications"][0]["category"] == "anticoagulant"
    assert history["pregnancy_statuses"][-1]["value"] == "pregnant"
    aid = allergy.json()["id"]
    assert c.post(f"{base}/allergies/{aid}/void").status_code == 204
    assert c.get(f"{base}/history").json()["allergies"][0]["status"] == "entered-in-error"
    assert c.post(f"{base}/allergies/{aid}/void").status_code == 409
    assert audit_entries(world.db, action="read", entity_type="medical_history")


def test_invalid_history_entry_names_the_field(world):
    c = world.client("nurse")
    base = f"/api/v1/patients/{world.patient_a.id}"
    r = c.post(f"{base}/medications", json={"name": "X", "category": "poison"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "category"
    r = c.post(
        f"{base}/medications",
        json={"name": "X", "started_on": "2025-05-01", "stopped_on": "2025-04-01"},
    )
    assert r.status_code == 422
    assert c.get(f"{base}/history").json()["medications"] == []


def test_reception_cannot_read_or_write_medical_history(world):
    c = world.client("reception")
    base = f"/api/v1/patients/{world.patient_a.id}"
    assert c.get(f"{base}/history").status_code == 403
    assert c.post(f"{base}/allergies", json={"substance": "latex"}).status_code == 403


def test_consent_is_signed_on_the_current_form_and_can_be_withdrawn(world):
    c = world.client("reception")
    base = f"/api/v1/patients/{world.patient_a.id}"
    forms = {f["procedure"]: f for f in c.get("/api/v1/consent-forms").json()}
    assert {"mesotherapy", "prp"} <= set(forms)
    r = c.post(
        f"{base}/consents",
        json={
            "procedure": "mesotherapy",
            "signed_by": "Ana Silva",
            "signed_at": "2026-01-10T10:00:00+00:00",
        },
    )
    assert r.status_code == 201, r.text
    consent = r.json()
    assert consent["current"] and consent["version"] == forms["mesotherapy"]["version"]
    w = c.post(f"{base}/consents/{consent['id']}/withdraw", json={"reason": "changed mind"})
    assert w.status_code == 200 and not w.json()["current"] and w.json()["withdrawn_at"]
    assert (
        c.post(f"{base}/consents/{consent['id']}/withdraw", json={"reason": "again"}).status_code
        == 409
    )


def test_consent_rules_refuse_bad_input(world):
    c = world.client("reception")
    base = f"/api/v1/patients/{world.patient_a.id}"
    r = c.post(
        f"{base}/consents",
        json={"procedure": "tattoo", "signed_by": "Ana", "signed_at": "2026-01-10T10:00:00+00:00"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "procedure"
    r = c.post(
        f"{base}/consents",
        json={"procedure": "prp", "signed_by": "Ana", "signed_at": "2026-01-10T10:00:00"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "signed_at"
    r = c.post(
        f"{base}/consents",
        json={"procedure": "prp", "signed_by": "Ana", "signed_at": "2999-01-10T10:00:00+00:00"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "signed_at"


def test_current_consent_gate_follows_form_versions(world):
    from datetime import UTC, datetime

    from mesoclinic.patients.consent import current_consent
    from mesoclinic.patients.models import ConsentForm

    c = world.client("clinician")
    base = f"/api/v1/patients/{world.patient_a.id}"
    c.post(
        f"{base}/consents",
        json={
            "procedure": "mesotherapy",
            "signed_by": "Ana Silva",
            "signed_at": "2026-01-10T10:00:00+00:00",
        },
    )
    with world.db.factory() as s, s.begin():
        assert current_consent(s, world.patient_a.id, "mesotherapy") is not None
        assert current_consent(s, world.patient_a.id, "prp") is None
        s.add(
            ConsentForm(
                procedure="mesotherapy",
                version=2,
                title="v2",
                text="new text",
                effective_from=datetime.now(UTC),
            )
        )
    with world.db.factory() as s:
        assert current_consent(s, world.patient_a.id, "mesotherapy") is None
