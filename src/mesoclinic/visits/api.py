"""JSON routes for visits: check, record, list, read, void."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, created_once, json_answer
from mesoclinic.security.permissions import Permission
from mesoclinic.visits import service
from mesoclinic.visits.schemas import CheckResult, VisitCreate, VisitRead, VisitVoid
from mesoclinic.web.rulebooks import VisitCheckRules

router = APIRouter(prefix="/api/v1", tags=["visits"])


Writer = Annotated[Actor, Allowed(Permission.VISIT_WRITE)]
Reader = Annotated[Actor, Allowed(Permission.VISIT_READ)]


@router.post("/visits/check", response_model=CheckResult)
def check_visit(
    body: VisitCreate, session: DbSession, actor: Writer, books: VisitCheckRules
) -> CheckResult:
    """Run every safety check on a visit without storing it (for the live form)."""
    return CheckResult.from_findings(service.check(session, actor, body, books))


@router.post(
    "/visits",
    response_model=VisitRead,
    status_code=201,
    responses={
        422: {"description": "safety_check_failed, warnings_need_confirmation or invalid input"}
    },
)
def record_visit(
    body: VisitCreate,
    session: DbSession,
    actor: Writer,
    books: VisitCheckRules,
    once: Idempotency,
) -> Response:
    """Record a completed visit and deduct its lots in the same transaction.

    Refused with 422 `safety_check_failed` when a check blocks, or
    `warnings_need_confirmation` until every warning's rule id is in `confirmed_warnings`.
    """

    def make() -> tuple[VisitRead, str]:
        visit = service.create(session, actor, body, books)
        return VisitRead.model_validate(visit), f"/api/v1/visits/{visit.id}"

    return created_once(session, actor, once, make)


@router.get("/visits/{visit_id}", response_model=VisitRead)
def get_visit(visit_id: uuid.UUID, session: DbSession, actor: Reader) -> VisitRead:
    return VisitRead.model_validate(service.get_visit(session, actor, visit_id))


@router.get("/patients/{patient_id}/visits", response_model=list[VisitRead])
def list_patient_visits(patient_id: uuid.UUID, session: DbSession, actor: Reader) -> Response:
    """A patient's visits, newest first (patients see only their own)."""
    visits = service.list_for_patient(session, actor, patient_id)
    return json_answer([VisitRead.model_validate(v) for v in visits])


@router.post("/visits/{visit_id}/void", response_model=VisitRead)
def void_visit(
    visit_id: uuid.UUID, body: VisitVoid, session: DbSession, actor: Writer
) -> VisitRead:
    """Mark a visit entered-in-error (never deleted; stock is corrected by an adjustment)."""
    return VisitRead.model_validate(service.void(session, actor, visit_id, body.reason))
