"""Overrides (clinician only, written reason, never absolute) and the consent/treatment gate."""

from __future__ import annotations

from typing import Any

from support import audit_entries

NORWOOD_VI = {
    "diagnosis": "androgenetic_alopecia",
    "staging": {"scale": "norwood_hamilton", "grade": "VI"},
}
REASON = "Patient understands limited benefit; wants to preserve the frontal tuft."


def _gate(client: Any, patient: Any) -> dict[str, Any]:
    r = client.get(f"/api/v1/patients/{patient.id}/treatment-gate")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_override_without_reason_is_refused_naming_reason(
    world: Any, clinician: Any, kit: Any
) -> None:
    made = clinician.post(kit.url(world.other_patient_a), json=NORWOOD_VI).json()
    for body in (
        {"rule_id": "candidacy.advanced_male_pattern"},
        {"rule_id": "candidacy.advanced_male_pattern", "reason": "   "},
        {"rule_id": "candidacy.advanced_male_pattern", "reason": "ok"},
    ):
        r = clinician.post(kit.url(world.other_patient_a, f"/{made['id']}/overrides"), json=body)
        assert r.status_code == 422
        assert r.json()["error"]["field"] == "reason"
    stored = clinician.get(kit.url(world.other_patient_a, f"/{made['id']}")).json()
    assert stored["decision"]["overrides"] == []


def test_override_by_reception_is_forbidden(world: Any, clinician: Any, kit: Any) -> None:
    made = clinician.post(kit.url(world.other_patient_a), json=NORWOOD_VI).json()
    r = world.client("reception").post(
        kit.url(world.other_patient_a, f"/{made['id']}/overrides"),
        json={"rule_id": "candidacy.advanced_male_pattern", "reason": REASON},
    )
    assert r.status_code == 403


def test_override_by_nurse_is_forbidden(world: Any, clinician: Any, kit: Any) -> None:
    made = clinician.post(kit.url(world.other_patient_a), json=NORWOOD_VI).json()
    r = world.client("nurse").post(
        kit.url(world.other_patient_a, f"/{made['id']}/overrides"),
        json={"rule_id": "candidacy.advanced_male_pattern", "reason": REASON},
    )
    assert r.status_code == 403


def test_clinician_override_is_stored_audited_and_opens_the_gate(
    world: Any, clinician: Any, kit: Any
) -> None:
    patient = world.other_patient_a
    kit.sign_consent(clinician, patient)
    made = clinician.post(kit.url(patient), json=NORWOOD_VI).json()
    gate = _gate(clinician, patient)
    assert gate["allowed"] is False
    assert [f["rule_id"] for f in gate["findings"]] == ["candidacy.advanced_male_pattern"]
    r = clinician.post(
        kit.url(patient, f"/{made['id']}/overrides"),
        json={"rule_id": "candidacy.advanced_male_pattern", "reason": REASON},
    )
    assert r.status_code == 201, r.text
    stored = clinician.get(kit.url(patient, f"/{made['id']}")).json()["decision"]
    assert stored["overrides"][0]["reason"] == REASON
    assert stored["needs_override"] == []
    assert stored["candidacy"] == "not_recommended"
    entries = audit_entries(world.db, action="override", entity_id=made["id"])
    assert entries and REASON in entries[0].detail
    assert _gate(clinician, patient) == {
        "allowed": True,
        "procedure": "mesotherapy",
        "findings": [],
    }


def test_absolute_contraindication_cannot_be_overridden(
    world: Any, clinician: Any, kit: Any
) -> None:
    made = clinician.post(
        kit.url(world.patient_a), json={**kit.female_fphl, "pregnant": True}
    ).json()
    r = clinician.post(
        kit.url(world.patient_a, f"/{made['id']}/overrides"),
        json={"rule_id": "contra.pregnancy", "reason": REASON},
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "override_not_allowed"
    assert not audit_entries(world.db, action="override")


def test_override_of_rule_that_did_not_fire_is_refused(
    world: Any, clinician: Any, kit: Any
) -> None:
    made = clinician.post(kit.url(world.patient_a), json=kit.female_fphl).json()
    r = clinician.post(
        kit.url(world.patient_a, f"/{made['id']}/overrides"),
        json={"rule_id": "contra.diabetes", "reason": REASON},
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "rule_id"


def test_same_rule_overridden_twice_conflicts(world: Any, clinician: Any, kit: Any) -> None:
    made = clinician.post(kit.url(world.other_patient_a), json=NORWOOD_VI).json()
    path = kit.url(world.other_patient_a, f"/{made['id']}/overrides")
    body = {"rule_id": "candidacy.advanced_male_pattern", "reason": REASON}
    assert clinician.post(path, json=body).status_code == 201
    assert clinician.post(path, json=body).status_code == 409


def test_relative_contraindication_blocks_until_overridden(
    world: Any, clinician: Any, kit: Any
) -> None:
    patient = world.patient_a
    kit.sign_consent(clinician, patient)
    clinician.post(
        f"/api/v1/patients/{patient.id}/medications",
        json={"name": "Apixaban", "category": "anticoagulant"},
    )
    made = clinician.post(kit.url(patient), json=kit.female_fphl).json()
    assert [f["rule_id"] for f in _gate(clinician, patient)["findings"]] == [
        "contra.anticoagulants"
    ]
    clinician.post(
        kit.url(patient, f"/{made['id']}/overrides"),
        json={
            "rule_id": "contra.anticoagulants",
            "reason": "INR stable; haematologist agrees; smaller needles.",
        },
    )
    assert _gate(clinician, patient)["allowed"] is True


def test_gate_needs_current_consent_for_the_procedure(world: Any, clinician: Any, kit: Any) -> None:
    patient = world.other_patient_a
    clinician.post(kit.url(patient), json=kit.male_aga)
    gate = _gate(clinician, patient)
    assert [f["rule_id"] for f in gate["findings"]] == ["consent.missing"]
    kit.sign_consent(clinician, patient, "prp")
    assert _gate(clinician, patient)["allowed"] is False
    kit.sign_consent(clinician, patient)
    assert _gate(clinician, patient)["allowed"] is True


def test_gate_without_assessment_names_it(world: Any, clinician: Any, kit: Any) -> None:
    gate = _gate(clinician, world.patient_a)
    assert [f["rule_id"] for f in gate["findings"]] == ["consent.missing", "assessment.missing"]
    assert audit_entries(world.db, entity_type="treatment_gate", patient_id=world.patient_a.id)


def test_pregnancy_recorded_after_assessment_blocks_the_gate(
    world: Any, clinician: Any, kit: Any
) -> None:
    patient = world.patient_a
    kit.sign_consent(clinician, patient)
    clinician.post(kit.url(patient), json=kit.female_fphl)
    assert _gate(clinician, patient)["allowed"] is True
    clinician.post(f"/api/v1/patients/{patient.id}/pregnancy-statuses", json={"value": "pregnant"})
    gate = _gate(clinician, patient)
    assert [f["rule_id"] for f in gate["findings"]] == ["contra.pregnancy"]
    assert gate["findings"][0]["severity"] == "absolute"


def test_voided_assessment_no_longer_counts(world: Any, clinician: Any, kit: Any) -> None:
    patient = world.patient_a
    kit.sign_consent(clinician, patient)
    clinician.post(
        kit.url(patient), json={**kit.female_fphl, "assessed_at": "2026-01-01T09:00:00+00:00"}
    )
    wrong = clinician.post(
        kit.url(patient), json={**kit.female_fphl, "scalp_infection": True}
    ).json()
    assert _gate(clinician, patient)["findings"][0]["rule_id"] == "contra.scalp_infection"
    clinician.post(
        kit.url(patient, f"/{wrong['id']}/entered-in-error"),
        json={"reason": "infection belonged to another patient"},
    )
    assert _gate(clinician, patient)["allowed"] is True
