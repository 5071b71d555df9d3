"""HTML pages: the Aftercare patient tab (also the patient portal), instruction sheets, outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mesoclinic.aftercare import outbox_admin, service, sheet
from mesoclinic.aftercare.api import Rulebook
from mesoclinic.aftercare.models import OutboxStatus
from mesoclinic.aftercare.rulebook import EVENT_KINDS
from mesoclinic.aftercare.schemas import DeclaredEventCreate
from mesoclinic.db import utcnow
from mesoclinic.patients.pages import patient_page
from mesoclinic.patients.service import load as load_patient
from mesoclinic.schemas_common import DATE_RANGE_MESSAGE, Page, in_date_range
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, PageOffset
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.security.service import clinic_timezone
from mesoclinic.web.forms import PostedForm, form_values, submit_form, validate
from mesoclinic.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
OUTBOX_PAGE_SIZE = 50
EVENT_LABELS = {
    "hair_colouring": "Hair colouring or chemical treatment",
    "beach_holiday": "Beach or sunny holiday",
    "sauna": "Sauna, steam room or pool",
    "other": "Other",
}


def _tab(
    request: Request,
    session: DbSession,
    actor: Actor,
    patient_id: uuid.UUID,
    rulebook: Rulebook,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    view = service.overview(session, actor, patient_id, rulebook, utcnow())
    request.state.timezone = view.timezone
    return patient_page(
        request,
        actor,
        view.patient,
        "aftercare",
        "aftercare/tab.html",
        {
            "view": view,
            "values": values,
            "errors": errors,
            "checked": None,
            "event_kinds": [(k, EVENT_LABELS[k]) for k in EVENT_KINDS],
            "event_labels": EVENT_LABELS,
            **(extra or {}),
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/aftercare", response_class=HTMLResponse)
def aftercare_tab(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
    check_at: str | None = None,
) -> Response:
    if not check_at:
        return _tab(request, session, actor, patient_id, rulebook, {}, {})
    patient = load_patient(session, actor, patient_id, Permission.AFTERCARE_READ)
    tz = ZoneInfo(clinic_timezone(session, patient.clinic_id))
    try:
        # A datetime-local input: a clinic-local wall-clock time without a zone.
        starts = datetime.fromisoformat(check_at).replace(tzinfo=tz)
        if not in_date_range(starts):
            raise ValueError(DATE_RANGE_MESSAGE)
    except ValueError:
        return _tab(
            request,
            session,
            actor,
            patient_id,
            rulebook,
            {"check_at": check_at},
            {"check_at": "Use a date and time like 2026-05-01T10:30"},
            422,
        )
    found = service.precaution_conflicts(session, actor, patient_id, starts, rulebook)
    return _tab(
        request,
        session,
        actor,
        patient_id,
        rulebook,
        {"check_at": check_at},
        {},
        extra={"checked": found},
    )


@router.post("/patients/{patient_id}/aftercare/events", response_class=HTMLResponse)
def declare_event(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_WRITE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(DeclaredEventCreate, values)

    def save(data: DeclaredEventCreate) -> Response:
        service.declare_event(session, actor, patient_id, data)
        return redirect(f"/patients/{patient_id}/aftercare", "Event added.")

    def show_form(errors: dict[str, str]) -> Response:
        return _tab(request, session, actor, patient_id, rulebook, values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/aftercare/events/{event_id}/void")
def void_event(
    patient_id: uuid.UUID,
    event_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_WRITE)],
) -> Response:
    service.void_event(session, actor, event_id, patient_id)
    return redirect(f"/patients/{patient_id}/aftercare", "Event withdrawn.")


@router.post("/patients/{patient_id}/aftercare/email")
def email_preference(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_WRITE)],
) -> Response:
    values = form_values(form)
    opt_out = values.get("email_opt_out") == "on"
    service.set_email_opt_out(session, actor, patient_id, opt_out)
    message = (
        "Reminder and aftercare emails turned off."
        if opt_out
        else "Reminder and aftercare emails turned on."
    )
    return redirect(f"/patients/{patient_id}/aftercare", message)


def _sheet(
    session: DbSession, actor: Actor, visit_id: uuid.UUID, rulebook: Rulebook, action: str
) -> tuple[Any, dict[str, Any]]:
    visit, windows = service.visit_precautions(session, actor, visit_id, rulebook, action)
    patient = load_patient(session, actor, visit.patient_id, Permission.AFTERCARE_READ)
    clinic = session.get(Clinic, visit.clinic_id)
    tz = clinic_timezone(session, visit.clinic_id)
    return visit, sheet.sheet_context(
        patient, clinic.name if clinic else "", visit.performed_at, tz, windows
    )


@router.get("/visits/{visit_id}/instructions", response_class=HTMLResponse)
def instructions(
    request: Request,
    visit_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
) -> Response:
    visit, context = _sheet(session, actor, visit_id, rulebook, "read")
    return render(request, "aftercare/instructions.html", {"visit": visit, **context})


@router.get("/visits/{visit_id}/instructions.pdf")
def instructions_pdf(
    visit_id: uuid.UUID,
    session: DbSession,
    rulebook: Rulebook,
    actor: Annotated[Actor, Allowed(Permission.AFTERCARE_READ)],
) -> Response:
    _visit, context = _sheet(session, actor, visit_id, rulebook, "export")
    return Response(
        sheet.render_pdf(context),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="aftercare-{visit_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.OUTBOX_READ)],
    status: str | None = None,
    offset: PageOffset = 0,
) -> Response:
    statuses = [s.value for s in OutboxStatus]
    chosen = status if status in statuses else None
    rows, total = outbox_admin.search(session, actor, chosen, limit=OUTBOX_PAGE_SIZE, offset=offset)
    return render(
        request,
        "aftercare/outbox.html",
        {
            "page": Page(items=list(rows), total=total, limit=OUTBOX_PAGE_SIZE, offset=offset),
            "status": chosen,
            "statuses": statuses,
            "counts": outbox_admin.counts(session, actor),
            "query_base": f"/admin/outbox?status={chosen or ''}",
        },
    )
