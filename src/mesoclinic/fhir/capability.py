"""The CapabilityStatement: exactly what this server implements. Pure.

The read and search tables below are the ones the API registers its routes from, so the statement
cannot promise a route that does not exist (tests/fhir/test_fhir_api.py checks each one).
"""

from __future__ import annotations

from typing import Any

from mesoclinic import __version__
from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, validated

# Types with `GET /fhir/{type}/{id}`.
READ_TYPES: tuple[str, ...] = (
    "Patient",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "Observation",
    "Consent",
    "Procedure",
    "MedicationAdministration",
    "AdverseEvent",
    "CarePlan",
    "Appointment",
    "Media",
    "BodyStructure",
    "Provenance",
)
# Types with `GET /fhir/{type}?...`: parameter -> (FHIR type, what it does).
SEARCH_PARAMS: dict[str, dict[str, tuple[str, str]]] = {
    "Patient": {
        "name": ("string", "every word in the given or family name"),
        "birthdate": ("date", "the date of birth (YYYY-MM-DD)"),
        "identifier": ("token", "the clinic's record number: [system|]value"),
    },
    "Observation": {
        "patient": ("reference", "the patient (required for staff)"),
        "code": ("token", "hair-metric code (or LOINC 82810-3): [system|]code"),
        "date": ("date", "effective time; eq, ge, gt, le, lt, ne prefixes; repeatable"),
    },
    "Procedure": {
        "patient": ("reference", "the patient (required for staff)"),
        "date": ("date", "performed time; eq, ge, gt, le, lt, ne prefixes; repeatable"),
    },
    "Condition": {"patient": ("reference", "the patient (required for staff)")},
    "Appointment": {
        "patient": ("reference", "the patient (required for staff)"),
        "date": ("date", "start time; eq, ge, gt, le, lt, ne prefixes; repeatable"),
    },
}
COMMON_SEARCH_PARAMS: dict[str, tuple[str, str]] = {
    "_count": (
        "number",
        "page size (0-100, default 20; 0 gives the total only); `next` links the next page",
    ),
    "_offset": ("number", "matches to skip (set by the `next` link)"),
}
# `_include` values each search understands (the patient of the matches).
INCLUDES: dict[str, tuple[str, ...]] = {
    "Observation": ("Observation:patient",),
    "Procedure": ("Procedure:patient",),
    "Condition": ("Condition:patient",),
    "Appointment": ("Appointment:patient",),
}
TYPE_OPERATIONS: dict[str, list[dict[str, str]]] = {
    "Patient": [
        {
            "name": "everything",
            "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        }
    ],
}

# ---- EXTENDED BY THE BULK EXPORT / IMPORT WORK (branch fhir-bulk) ------------------------------
# Add what those routes implement here, and nothing they do not:
#   SYSTEM_INTERACTIONS: {"code": "transaction"} for `POST /fhir` with a transaction Bundle.
#   SYSTEM_OPERATIONS: {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/
#       OperationDefinition/export"} for `GET /fhir/$export`.
#   TYPE_OPERATIONS["Group"] (and "Group" in the resource list) for `/fhir/Group/{id}/$export`.
SYSTEM_INTERACTIONS: list[dict[str, str]] = [
    {
        "code": "transaction",
        "documentation": "POST /fhir: a referral of Patient, Condition, AllergyIntolerance, "
        "MedicationStatement, Observation, Procedure and MedicationAdministration entries, "
        "stored idempotently; a Procedure with its administrations is kept as a session "
        "recorded elsewhere (no stock, no safety checks).",
    }
]
BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
SYSTEM_OPERATIONS: list[dict[str, str]] = [{"name": "export", "definition": BULK_EXPORT}]
TYPE_OPERATIONS["Group"] = [
    {
        "name": "export",
        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
    }
]
TYPE_OPERATIONS["Patient"].append(
    {
        "name": "export",
        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
    }
)
# ---- end of the extended lists -----------------------------------------------------------------


# Served openly at `GET /fhir/CodeSystem/{name}` (code_systems.py), not through the record.
OPEN_READ_TYPES: tuple[str, ...] = ("CodeSystem",)


def _resource(resource_type: str) -> Resource:
    readable = resource_type in READ_TYPES or resource_type in OPEN_READ_TYPES
    interactions = [{"code": "read"}] if readable else []
    out: dict[str, Any] = {"type": resource_type, "interaction": interactions}
    params = SEARCH_PARAMS.get(resource_type)
    if params is not None:
        interactions.append({"code": "search-type"})
        out["searchParam"] = [
            {"name": name, "type": kind, "documentation": words}
            for name, (kind, words) in (params | COMMON_SEARCH_PARAMS).items()
        ]
    if resource_type in INCLUDES:
        out["searchInclude"] = list(INCLUDES[resource_type])
    if resource_type in TYPE_OPERATIONS:
        out["operation"] = TYPE_OPERATIONS[resource_type]
    return out


def capability_statement(base_url: str, *, published: str) -> Resource:
    """The statement served at `GET /fhir/metadata` (validated with fhir.resources)."""
    types = list(dict.fromkeys([*READ_TYPES, *OPEN_READ_TYPES, *SEARCH_PARAMS, *TYPE_OPERATIONS]))
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "Scalp mesotherapy clinic records (see docs/fhir.md).",
        "security": {
            "description": "A bearer token from POST /api/v1/auth/token, or a signed-in web "
            "session. Staff see their own clinic's patients, patients only their own record; "
            "every read is audited.",
        },
        "resource": [_resource(t) for t in types],
    }
    if SYSTEM_INTERACTIONS:
        rest["interaction"] = SYSTEM_INTERACTIONS
    if SYSTEM_OPERATIONS:
        rest["operation"] = SYSTEM_OPERATIONS
    return validated(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": published,
            "publisher": "mesoclinic",
            "kind": "instance",
            "software": {"name": "mesoclinic", "version": __version__},
            "implementation": {"description": "mesoclinic FHIR server", "url": base_url},
            "fhirVersion": codes.FHIR_VERSION,
            "format": [codes.FHIR_JSON, "json"],
            "rest": [rest],
        }
    )
