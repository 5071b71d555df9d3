"""`POST /fhir` with a referral (transaction Bundle): stored once, matched the second time, and
refused whole (nothing stored) with the bad element named by a FHIRPath expression."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from fhir_records import FHIR_JSON, post_bundle, referral, row_counts
from mesoclinic.fhir import codes
from mesoclinic.outcomes.models import Measurement
from mesoclinic.patients.models import Allergy, Condition, Patient
from support import audit_entries


def _counts(world: Any) -> dict[str, int]:
    return row_counts(world, Patient, Condition, Allergy, Measurement)


def test_a_referral_is_stored_once_and_matched_the_second_time(world):
    before = _counts(world)
    clinician = world.client("clinician")
    r = post_bundle(clinician, referral())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created"] * 4
    assert body["entry"][0]["response"]["location"].startswith("Patient/")
    after = _counts(world)
    assert {k: after[k] - before[k] for k in after} == {
        "Patient": 1,
        "Condition": 1,
        "Allergy": 1,
        "Measurement": 1,
    }
    with world.db.factory() as s:
        patient = s.execute(select(Patient).where(Patient.family_name == "Okafor")).scalar_one()
        assert patient.clinic_id == world.clinic_a.id and patient.given_name == "Adaeze"
        measurement = s.execute(
            select(Measurement).where(Measurement.patient_id == patient.id)
        ).scalar_one()
        assert (measurement.kind, measurement.value, measurement.unit) == (
            "density_total",
            128.0,
            "/cm2",
        )
        assert measurement.site is not None and measurement.site.location == "vertex"

    again = post_bundle(clinician, referral())
    assert again.status_code == 200, again.text
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 4
    assert [e["response"]["location"] for e in again.json()["entry"]] == [
        e["response"]["location"] for e in body["entry"]
    ]
    assert _counts(world) == after
    imports = audit_entries(world.db, action="import", entity_type="fhir_bundle")
    assert len(imports) == 2 and imports[0].clinic_id == world.clinic_a.id


def test_a_changed_value_is_a_correction_beside_the_original(world):
    clinician = world.client("clinician")
    assert post_bundle(clinician, referral()).status_code == 200
    changed = referral()
    changed["entry"][2]["resource"]["valueQuantity"]["value"] = 131
    r = post_bundle(clinician, changed)
    assert r.status_code == 200, r.text
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses == ["200 OK", "200 OK", "200 OK", "200 OK"]
    with world.db.factory() as s:
        values = s.execute(
            select(Measurement.value, Measurement.superseded_at.is_(None)).order_by(
                Measurement.created_at
            )
        ).all()
    assert [(v, current) for v, current in values] == [(128.0, False), (131.0, True)]


def test_the_patient_is_matched_on_the_clinic_record_number(world):
    bundle = referral()
    bundle["entry"][0]["resource"]["identifier"].append(
        {
            "system": codes.record_number_system(world.clinic_a.id),
            "value": world.patient_a.record_number,
        }
    )
    before = _counts(world)
    r = post_bundle(world.client("clinician"), bundle)
    assert r.status_code == 200, r.text
    assert r.json()["entry"][0]["response"] == {
        "status": "200 OK",
        "location": f"Patient/{world.patient_a.id}",
    }
    assert _counts(world)["Patient"] == before["Patient"]
    with world.db.factory() as s:
        assert s.get(Patient, world.patient_a.id).family_name == "Okafor"  # updated


def test_an_invalid_element_is_named_and_nothing_is_stored(world):
    before = _counts(world)
    bundle = referral()
    bundle["entry"][2]["resource"]["valueQuantity"]["unit"] = 5
    r = post_bundle(world.client("clinician"), bundle)
    assert r.status_code == 422, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[2].resource.valueQuantity.unit"]
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert _counts(world) == before


def test_a_value_the_clinic_refuses_rolls_back_the_patient_too(world):
    """The Patient entry was stored before the Observation failed the kinds rulebook: the whole
    bundle is one transaction, so it is gone too."""
    before = _counts(world)
    bundle = referral()
    bundle["entry"][2]["resource"]["valueQuantity"]["value"] = 5000
    r = post_bundle(world.client("clinician"), bundle)
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[2].resource.valueQuantity.value"]
    assert _counts(world) == before
    assert audit_entries(world.db, action="import-refused")


def test_structural_problems_are_refused_before_anything_is_read(world):
    clinician = world.client("clinician")
    r = post_bundle(clinician, {"resourceType": "Patient"})
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Bundle"]
    bundle = referral()
    bundle["type"] = "batch"
    r = post_bundle(clinician, bundle)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Bundle.type"]
    bundle = referral()
    bundle["entry"][1]["resource"]["subject"] = {"reference": "Patient/somebody-else"}
    r = post_bundle(clinician, bundle)
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.subject"]
    bundle = referral()
    bundle["entry"].append(
        {
            "resource": {"resourceType": "Claim", "id": "x"},
            "request": {"method": "POST", "url": "Claim"},
        }
    )
    r = post_bundle(clinician, bundle)
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Bundle.entry[4].resource.resourceType"]


def test_who_may_import(world):
    assert post_bundle(world.client("patient"), referral()).status_code == 403
    r = post_bundle(world.client("admin"), referral())
    assert r.status_code == 422 and "clinic" in r.text  # a group admin names the clinic
    r = world.client("admin").post(
        f"/fhir?clinic={world.clinic_b.id}", json=referral(), headers=FHIR_JSON
    )
    assert r.status_code == 200, r.text
    # clinic A's import of the same referral is its own record, not clinic B's
    r = post_bundle(world.client("clinician"), referral())
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["201 Created"] * 4
    r = post_bundle(world.client("clinician_b"), referral())
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["200 OK"] * 4
    r = world.client("clinician_b").post(
        f"/fhir?clinic={world.clinic_a.id}", json=referral(), headers=FHIR_JSON
    )
    assert r.status_code == 422


def test_reception_may_register_the_patient_but_not_the_clinical_entries(world):
    before = _counts(world)
    r = post_bundle(world.client("reception"), referral())
    assert r.status_code == 403, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert _counts(world) == before
    only_patient = copy.deepcopy(referral())
    only_patient["entry"] = only_patient["entry"][:1]
    assert post_bundle(world.client("reception"), only_patient).status_code == 200
