"""Another clinic's staff and another patient get a 404/403 OperationOutcome on every FHIR route,
searches included, while the clinic's own staff and the patient themselves are served.

Runs on the demo clinic, whose records have every mapped resource type (the OpenMRS
CVE-2025-46823 failure this guards against: FHIR routes that skipped the privilege checks)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fhir_data import allergy, densities, outcome, references
from mesoclinic.demo.seed import DEMO_PASSWORD, MAIN_CLINIC, PATIENT_USERNAME
from mesoclinic.fhir.capability import SEARCH_PARAMS
from mesoclinic.patients.models import Patient
from mesoclinic.security.models import Clinic, User


def _headers(anon: Any, username: str) -> dict[str, str]:
    r = anon.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _richest_other_patient(anon: Any, staff: dict[str, str], ids: list[Any]) -> list[Any]:
    best: list[Any] = []
    for patient_id in ids:
        r = anon.get(f"/fhir/Patient/{patient_id}/$everything", headers=staff)
        assert r.status_code == 200, r.text
        resources = [e["resource"] for e in r.json()["entry"]]
        if len({x["resourceType"] for x in resources}) > len({x["resourceType"] for x in best}):
            best = resources
    return best


@pytest.mark.timeout(900)  # reads the whole demo clinic
def test_foreign_staff_and_other_patients_are_refused_on_every_fhir_route(app, db, anon, demo):
    with db.factory() as s:
        own_id = s.execute(
            select(User.patient_id).where(User.username == PATIENT_USERNAME)
        ).scalar_one()
        main = s.execute(select(Clinic.id).where(Clinic.name == MAIN_CLINIC)).scalar_one()
        others = (
            s.execute(
                select(Patient.id)
                .where(Patient.clinic_id == main, Patient.id != own_id)
                # The first demo patients carry whole records; the analytics demo's past courses
                # (registered after them) carry outcomes only.
                .order_by(Patient.record_number)
                .limit(8)
            )
            .scalars()
            .all()
        )
    home, foreign, patient = (
        _headers(anon, u) for u in ("dr.moreau", "dr.garcia", PATIENT_USERNAME)
    )
    record = _richest_other_patient(anon, home, list(others))
    target = record[0]["id"]
    one_per_type = {r["resourceType"]: r for r in record}
    assert len(one_per_type) >= 12, sorted(one_per_type)

    for resource_type, resource in one_per_type.items():
        url = f"/fhir/{resource_type}/{resource['id']}"
        assert anon.get(url, headers=home).json() == resource, url
        outcome(anon.get(url, headers=foreign), 404)
        outcome(anon.get(url, headers=patient), 404)  # as for an unknown id

    everything = f"/fhir/Patient/{target}/$everything"
    outcome(anon.get(everything, headers=foreign), 404)
    outcome(anon.get(everything, headers=patient), 404)

    for resource_type in SEARCH_PARAMS:
        if resource_type == "Patient":
            continue
        url = f"/fhir/{resource_type}?patient={target}"
        assert anon.get(url, headers=home).status_code == 200
        outcome(anon.get(url, headers=foreign), 404)
        outcome(anon.get(url, headers=patient), 404)

    family = record[0]["name"][0]["family"]
    for headers in (foreign, patient):
        found = anon.get(f"/fhir/Patient?name={family}&_count=100", headers=headers).json()
        ids = {e["resource"]["id"] for e in found.get("entry", [])}
        assert target not in ids
        assert ids <= {str(own_id)} or headers is foreign
    number = record[0]["identifier"][0]["value"]
    found = anon.get(f"/fhir/Patient?identifier={number}", headers=foreign).json()
    assert target not in {e["resource"]["id"] for e in found.get("entry", [])}


def test_a_patient_reads_only_their_own_record(world):
    allergy(world, world.patient_a)
    densities(world, world.patient_a, [120.0, 126.0])
    densities(world, world.other_patient_a, [99.0])
    own_id = str(world.patient_a.id)
    patient = world.client("patient")
    bundle = patient.get(f"/fhir/Patient/{own_id}/$everything").json()
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "AllergyIntolerance", "Observation", "Provenance"} <= types
    patients = {
        r for e in bundle["entry"] for r in references(e["resource"]) if r.startswith("Patient/")
    }
    assert patients == {f"Patient/{own_id}"}
    observations = patient.get("/fhir/Observation?_count=100").json()
    assert observations["total"] == 2
    assert {e["resource"]["subject"]["reference"] for e in observations["entry"]} == {
        f"Patient/{own_id}"
    }
    everyone = patient.get("/fhir/Patient?_count=100").json()
    assert [e["resource"]["id"] for e in everyone["entry"]] == [own_id]


def test_a_patient_reads_a_history_condition_without_assessment_rights(world):
    made = {}
    for person in (world.patient_a, world.other_patient_a):
        r = world.client("clinician").post(
            f"/api/v1/patients/{person.id}/conditions",
            json={"name": "Diabetes", "kind": "diabetes"},
        )
        assert r.status_code == 201, r.text
        made[person.id] = r.json()["id"]
    patient = world.client("patient")
    own = patient.get(f"/fhir/Condition/{made[world.patient_a.id]}")
    assert own.status_code == 200 and own.json()["code"]["text"] == "Diabetes"
    assert patient.get(f"/fhir/Provenance/{made[world.patient_a.id]}").status_code == 200
    outcome(patient.get(f"/fhir/Condition/{made[world.other_patient_a.id]}"), 404)
    outcome(patient.get(f"/fhir/Provenance/{made[world.other_patient_a.id]}"), 404)
    outcome(world.client("clinician_b").get(f"/fhir/Condition/{made[world.patient_a.id]}"), 404)
