"""JSON routes: assessments with their decision, overrides, preview and the treatment gate."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Response

from mesoclinic.assessment import service
from mesoclinic.assessment.models import Assessment
from mesoclinic.assessment.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentVoid,
    DecisionRead,
    FindingRead,
    GateRead,
    OverrideCreate,
    OverrideRead,
    PreviewRead,
)
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, created_once
from mesoclinic.security.permissions import Permission
from mesoclinic.web.rulebooks import ScreeningRules

router = APIRouter(prefix="/api/v1", tags=["assessment"])
Procedure = Literal["mesotherapy", "prp"]


def to_read(assessment: Assessment) -> AssessmentRead:
    """The API view of an assessment, decision and overrides included."""
    data = {c: getattr(assessment, c) for c in AssessmentRead.model_fields if c != "decision"}
    return AssessmentRead(
        **data, decision=DecisionRead.model_validate(service.decision_view(assessment))
    )


@router.post("/patients/{patient_id}/assessments", response_model=AssessmentRead, status_code=201)
def create_assessment(
    patient_id: uuid.UUID,
    body: AssessmentCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
    rulebook: ScreeningRules,
) -> Response:
    """Record an assessment; the answer carries the decision and the rulebook version used."""

    def make() -> tuple[AssessmentRead, str]:
        assessment = service.create(session, actor, patient_id, body, rulebook)
        url = f"/api/v1/patients/{patient_id}/assessments/{assessment.id}"
        return to_read(assessment), url

    return created_once(session, actor, once, make)


@router.post("/patients/{patient_id}/assessments/preview", response_model=PreviewRead)
def preview_assessment(
    patient_id: uuid.UUID,
    body: AssessmentCreate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
    rulebook: ScreeningRules,
) -> PreviewRead:
    """The decision this assessment would get, with nothing stored (for the live form)."""
    prepared = service.preview(session, actor, patient_id, body, rulebook)
    return PreviewRead(
        decision=DecisionRead.model_validate(service.preview_view(prepared)),
        icd10=prepared.code.icd10,
        snomed=prepared.code.snomed,
        staging_grade=prepared.staging.grade,
        salt_severity=prepared.staging.salt_severity,
    )


@router.get("/patients/{patient_id}/assessments", response_model=list[AssessmentRead])
def list_assessments(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_READ)],
) -> list[AssessmentRead]:
    """The patient's assessments, newest first."""
    return [to_read(a) for a in service.list_for(session, actor, patient_id)]


@router.get("/patients/{patient_id}/assessments/{assessment_id}", response_model=AssessmentRead)
def get_assessment(
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_READ)],
) -> AssessmentRead:
    return to_read(service.get(session, actor, patient_id, assessment_id))


@router.post(
    "/patients/{patient_id}/assessments/{assessment_id}/overrides",
    response_model=OverrideRead,
    status_code=201,
)
def override_decision(
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    body: OverrideCreate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.DECISION_OVERRIDE)],
    once: Idempotency,
) -> Response:
    """Override a not-recommended or relative finding with a written reason (audited)."""

    def make() -> tuple[OverrideRead, str]:
        override = service.add_override(session, actor, patient_id, assessment_id, body)
        return OverrideRead.model_validate(override), ""

    return created_once(session, actor, once, make)


# Not ".../void": the patient history's "/{kind}/{item_id}/void" route would catch it.
@router.post(
    "/patients/{patient_id}/assessments/{assessment_id}/entered-in-error",
    response_model=AssessmentRead,
)
def void_assessment(
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    body: AssessmentVoid,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
) -> AssessmentRead:
    """Mark an assessment entered-in-error (kept, no longer counted)."""
    return to_read(service.void(session, actor, patient_id, assessment_id, body.reason))


@router.get("/patients/{patient_id}/treatment-gate", response_model=GateRead)
def get_treatment_gate(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_READ)],
    rulebook: ScreeningRules,
    procedure: Procedure = "mesotherapy",
) -> GateRead:
    """Whether a treatment may be planned now, and every reason it may not."""
    findings = service.gate(session, actor, patient_id, rulebook, procedure)
    return GateRead(
        allowed=not findings,
        procedure=procedure,
        findings=[FindingRead.model_validate(f) for f in findings],
    )
