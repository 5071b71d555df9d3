"""Every resource the whole demo clinic exports validates with fhir.resources (R4B), and every
reference inside a patient's $everything Bundle points at a resource of that Bundle."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select

from fhir_data import references
from mesoclinic.db import unit_of_work
from mesoclinic.fhir import codes
from mesoclinic.fhir import service as fhir_service
from mesoclinic.fhir.code_systems import code_system
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import cli_actor

EXPECTED_TYPES = {
    "Patient",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "Observation",
    "Consent",
    "Procedure",
    "MedicationAdministration",
    "CarePlan",
    "Appointment",
    "Media",
    "BodyStructure",
    "Provenance",
}


def _local_codings(value: Any) -> list[tuple[str, str]]:
    """(system, code) of every coding in one of mesoclinic's own CodeSystems."""
    if isinstance(value, dict):
        own = str(value.get("system", "")).startswith(f"{codes.BASE}/CodeSystem/")
        found = [(value["system"], value["code"])] if own and "code" in value else []
        return found + [c for v in value.values() for c in _local_codings(v)]
    if isinstance(value, list):
        return [c for v in value for c in _local_codings(v)]
    return []


# Builds the whole demo clinic and exports ~2,000 resources: minutes on a loaded shared machine.
@pytest.mark.timeout(900)
def test_every_resource_of_the_demo_clinic_validates_and_references_resolve(app, db, demo):
    kinds = Counter[str]()
    served: dict[str, set[str]] = {}
    book = load_kinds()
    with unit_of_work(db.factory) as session:
        actor = cli_actor("fhir-test")
        patient_ids = session.execute(select(Patient.id)).scalars().all()
        assert len(patient_ids) >= 25
        for patient_id in patient_ids:
            resources = fhir_service.everything(session, actor, patient_id, book)
            present = {f"{r['resourceType']}/{r['id']}" for r in resources}
            assert len(present) == len(resources), "a resource is exported twice"
            for resource in resources:
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
                kinds[resource["resourceType"]] += 1
                for system, code in _local_codings(resource):
                    served.setdefault(system, set()).add(code)
                local = [r for r in references(resource) if not r.startswith("#")]
                assert set(local) <= present, (resource["resourceType"], set(local) - present)
    assert EXPECTED_TYPES <= set(kinds), EXPECTED_TYPES - set(kinds)
    assert kinds["Patient"] == len(patient_ids)
    for system, used in served.items():
        name = system.rsplit("/", 1)[1]
        if name == "consent-procedure":  # the clinic's own consent forms name these
            continue
        published = code_system(name, book)
        assert published is not None, system
        listed = {c["code"] for c in published["concept"]}
        unlisted = {c for c in used - listed if not c.startswith("salt-")}
        assert not unlisted, (system, unlisted)
