"""Records for the FHIR API tests, made through the JSON API like a clinic would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from outcomes.measure_data import density, make_site, record

FHIR_JSON = "application/fhir+json"


def allergy(world: Any, patient: Any, substance: str = "Biotin") -> dict[str, Any]:
    r = world.client("clinician" if patient is not world.patient_b else "clinician_b").post(
        f"/api/v1/patients/{patient.id}/allergies",
        json={"substance": substance, "reaction": "Rash", "severity": "mild"},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def densities(world: Any, patient: Any, values: list[float]) -> list[dict[str, Any]]:
    """One site and a total density per value, a day apart (oldest first)."""
    persona = "clinician_b" if patient is world.patient_b else "clinician"
    site = make_site(world, patient, persona=persona)
    made = []
    for i, value in enumerate(values):
        when = datetime(2026, 1, 1 + i, 10, 0, tzinfo=UTC).isoformat()
        made.append(record(world, density(site["id"], value, measured_at=when), patient, persona))
    return made


def outcome(response: Any, status: int) -> dict[str, Any]:
    """The OperationOutcome of an error answer, checked for shape and media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"][0]["diagnostics"]
    return body  # type: ignore[no-any-return]


def references(value: Any) -> list[str]:
    """Every `reference` string inside a resource (contained ones start with '#')."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []
