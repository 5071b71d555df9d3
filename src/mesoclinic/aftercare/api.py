"""JSON API for aftercare: visit precautions, calendar file, declared events, conflicts, outbox."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from mesoclinic.aftercare import outbox_admin, service
from mesoclinic.aftercare.rules import PrecautionWindow
from mesoclinic.aftercare.schemas import (
    ConflictsRead,
    DeclaredEventCreate,
    DeclaredEventRead,
    EmailPreference,
    EmailPreferenceRead,
    OutboxPage,
    OutboxRead,
    PrecautionRead,
    VisitAftercareRead,
)
from mesoclinic.db import utcnow
from mesoclinic.plans.schemas import ConflictRead
from mesoclinic.schemas_common import UtcDatetime
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, PageOffset, created_once
from mesoclinic.security.permissions import Permission
from mesoclinic.web.rulebooks import AftercareRules

router = APIRouter(prefix="/api/v1", tags=["aftercare"])


Rulebook = AftercareRules


def precaution_read(window: PrecautionWindow) -> PrecautionRead:
    return PrecautionRead(**asdict(window))


@router.get("/visits/{visit_id}/aftercare", response_model=VisitAftercareRead)
def visit_aftercare(
    visit_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
) -> VisitAftercareRead:
    """The precaution windows after (and before) one visit, from the clinic's rulebook."""
    visit, windows = service.visit_precautions(session, actor, visit_id, rulebook)
    return VisitAftercareRead(
        visit_id=visit.id,
        performed_at=visit.performed_at,
        precautions=[precaution_read(w) for w in windows],
    )


@router.get(
    "/patients/{patient_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def patient_calendar(
    patient_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
) -> Response:
    """Next appointments and precaution windows as an iCalendar file."""
    body = service.calendar_ics(session, actor, patient_id, rulebook, utcnow())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="mesotherapy.ics"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/patients/{patient_id}/precaution-conflicts", response_model=ConflictsRead)
def precaution_conflicts(
    patient_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
    starts_at: Annotated[UtcDatetime, Query()],
) -> ConflictsRead:
    """Declared events a session at `starts_at` would conflict with, with safe dates."""
    found = service.precaution_conflicts(session, actor, patient_id, starts_at, rulebook)
    return ConflictsRead(starts_at=starts_at, warnings=[ConflictRead(**asdict(f)) for f in found])


@router.get("/patients/{patient_id}/declared-events", response_model=list[DeclaredEventRead])
def list_declared_events(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
) -> list[DeclaredEventRead]:
    """The patient's declared upcoming events."""
    return [
        DeclaredEventRead.model_validate(e)
        for e in service.declared_events(session, actor, patient_id)
    ]


@router.post(
    "/patients/{patient_id}/declared-events", response_model=DeclaredEventRead, status_code=201
)
def create_declared_event(
    patient_id: uuid.UUID,
    data: DeclaredEventCreate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_WRITE)],
    once: Idempotency,
) -> Response:
    """Declare an upcoming event (hair colouring, beach holiday, sauna, other)."""

    def make() -> tuple[DeclaredEventRead, str]:
        event = service.declare_event(session, actor, patient_id, data)
        return DeclaredEventRead.model_validate(event), ""

    return created_once(session, actor, once, make)


@router.post("/declared-events/{event_id}/void", response_model=DeclaredEventRead)
def void_declared_event(
    event_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_WRITE)],
) -> DeclaredEventRead:
    """Withdraw a declared event (kept as entered-in-error)."""
    return DeclaredEventRead.model_validate(service.void_event(session, actor, event_id))


@router.put("/patients/{patient_id}/email-preference", response_model=EmailPreferenceRead)
def put_email_preference(
    patient_id: uuid.UUID,
    data: EmailPreference,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_WRITE)],
) -> EmailPreferenceRead:
    """Opt out of (or back into) reminder and aftercare emails."""
    patient = service.set_email_opt_out(session, actor, patient_id, data.email_opt_out)
    return EmailPreferenceRead(patient_id=patient.id, email_opt_out=patient.email_opt_out)


@router.get("/outbox", response_model=OutboxPage)
def list_outbox(
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.OUTBOX_READ)],
    status: Annotated[outbox_admin.StatusFilter | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: PageOffset = 0,
) -> OutboxPage:
    """Patient emails of the caller's clinic (all clinics for the group admin), newest first."""
    rows, total = outbox_admin.search(session, actor, status, limit=limit, offset=offset)
    return OutboxPage(
        items=[OutboxRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
