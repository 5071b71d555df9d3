"""`POST /fhir`: a transaction Bundle (a referral) stored in one transaction, or nothing stored and
an OperationOutcome naming each bad element with a FHIRPath expression."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from mesoclinic.fhir import importer
from mesoclinic.fhir.importer_parse import parse_bundle
from mesoclinic.fhir.importer_records import BundleRefused
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/fhir", tags=["fhir"])
Writer = Annotated[Actor, Allowed(Permission.PATIENT_WRITE)]
FHIR_JSON = "application/fhir+json"


def operation_outcome(refused: BundleRefused) -> JSONResponse:
    return JSONResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": issue.code,
                    "diagnostics": f"{issue.expression}: {issue.message}",
                    "expression": [issue.expression],
                }
                for issue in refused.issues
            ],
        },
        status_code=refused.status,
        media_type=FHIR_JSON,
    )


@router.post("", response_class=JSONResponse)
def transaction(
    session: DbSession,
    actor: Writer,
    settings: SettingsDep,
    bundle: Annotated[Any, Body()] = None,
    clinic: Annotated[uuid.UUID | None, Query(description="group admins: the clinic")] = None,
) -> JSONResponse:
    """Create or update the referral's Patient, Condition, AllergyIntolerance,
    MedicationStatement and Observation resources, and its sessions given elsewhere (Procedure
    and MedicationAdministration, kept as visits recorded elsewhere); the same bundle twice
    adds nothing."""
    clinic_id = importer.target_clinic(actor, clinic)
    try:
        parsed = parse_bundle(bundle)
        with session.begin_nested():  # a refusal rolls back every record of the bundle
            results = importer.import_bundle(
                session, actor, parsed, load_kinds(settings.measurement_kinds), clinic_id
            )
    except BundleRefused as refused:
        audit.record(
            session,
            actor,
            "import-refused",
            "fhir_bundle",
            None,
            clinic_id=clinic_id,
            detail={"issues": [f"{i.expression}: {i.message}" for i in refused.issues[:20]]},
        )
        return operation_outcome(refused)
    return JSONResponse(importer.response_bundle(results), media_type=FHIR_JSON)
