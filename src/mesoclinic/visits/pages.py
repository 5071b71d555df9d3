"""The patient's Visits tab: the list, the new-visit form with live safety checks, a visit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import RuleViolation
from mesoclinic.formulary import service as formulary_service
from mesoclinic.formulary import stock
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.patients.pages import patient_page
from mesoclinic.plans import fulfilment
from mesoclinic.plans import service as plan_service
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.security.service import clinic_timezone
from mesoclinic.visits import service
from mesoclinic.visits.models import ADVERSE_EVENT_TYPES, TECHNIQUES, ZONES
from mesoclinic.visits.schemas import VisitCreate, VisitVoid
from mesoclinic.web.forms import PostedForm, form_values, submit_form, validate
from mesoclinic.web.rulebooks import VisitCheckRules
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
LOT_ROWS = 2
DEFAULTS = {
    "technique": "point_by_point",
    "depth_mm": "1.5",
    "needle_gauge": "30",
    "needle_length_mm": "4",
    "adverse_type": "none",
    "zones": [],
}


def visit_values(values: dict[str, Any], patient_id: uuid.UUID, tz: ZoneInfo) -> dict[str, Any]:
    """The posted form as a VisitCreate body (clinic-local time, lot rows, one event)."""
    body: dict[str, Any] = {
        k: values[k]
        for k in (
            "cocktail_id",
            "technique",
            "depth_mm",
            "points",
            "volume_per_point_ml",
            "total_volume_ml",
            "needle_gauge",
            "needle_length_mm",
            "prp_volume_ml",
            "pain_score",
            "hair_colour_last_date",
            "notes",
            "plan_session_id",
        )
        if values.get(k) not in (None, "")
    }
    body["patient_id"] = patient_id
    performed = values.get("performed_at")
    body["performed_at"] = (
        datetime.fromisoformat(performed).replace(tzinfo=tz)
        if performed and len(performed) == 16
        else datetime.now(UTC)
    )
    body["prp_given"] = values.get("prp_given") == "on"
    body["zones"] = values.get("zones", [])
    body["lots"] = [
        {"lot_id": values[f"lot_id_{i}"], "volume_ml": values.get(f"volume_ml_{i}")}
        for i in range(LOT_ROWS)
        if values.get(f"lot_id_{i}")
    ]
    event = {
        k: values.get(f"adverse_{k}") for k in ("type", "severity", "onset", "outcome", "note")
    }
    body["adverse_events"] = [{k: v for k, v in event.items() if v}]
    body["confirmed_warnings"] = values.get("confirm", [])
    return body


def _form_context(
    request: Request, session: Session, actor: Actor, patient: Patient
) -> dict[str, Any]:
    cocktails = formulary_service.list_cocktails(session, actor)
    open_sessions = [
        s
        for s in plan_service.plan_sessions_for(session, patient.id)
        if s.status in fulfilment.OPEN_SESSION_STATUSES
    ]
    today = datetime.now(ZoneInfo(clinic_timezone(session, patient.clinic_id))).date()
    return {
        "cocktails": cocktails,
        "open_sessions": open_sessions,
        # Expired and recalled lots are not offered (saving refuses them anyway).
        "lots": stock.lots_for_visit(
            session,
            actor,
            clinic_id=patient.clinic_id,
            today=today,
            expiry_alert_days=request.app.state.settings.stock_expiry_alert_days,
        ),
        "expiry_alert_days": request.app.state.settings.stock_expiry_alert_days,
        "techniques": TECHNIQUES,
        "zones": ZONES,
        "event_types": ADVERSE_EVENT_TYPES,
        "lot_rows": range(LOT_ROWS),
        "prescriber": actor.can(Permission.PRESCRIBE),
    }


def _visits_tab(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    checks: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    visits = service.list_for_patient(session, actor, patient_id)
    patient = patient_service.load(session, actor, patient_id, Permission.VISIT_READ)
    ctx: dict[str, Any] = {
        "visits": visits,
        "external_visits": service.list_external_for_patient(session, actor, patient_id),
        "values": values or dict(DEFAULTS),
        "errors": errors or {},
        "checks": checks or [],
    }
    if actor.can(Permission.VISIT_WRITE) and patient.status == RecordStatus.ACTIVE:
        ctx.update(_form_context(request, session, actor, patient))
    return patient_page(
        request, actor, patient, "visits", "visits/tab.html", ctx, status_code=status_code
    )


@router.get("/patients/{patient_id}/visits", response_class=HTMLResponse)
def visits_tab(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.VISIT_READ)],
) -> Response:
    return _visits_tab(request, session, actor, patient_id)


@router.post("/patients/{patient_id}/visits", response_class=HTMLResponse)
def record_visit(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.VISIT_WRITE)],
    books: VisitCheckRules,
) -> Response:
    """Record the visit from the form; refusals come back with every check shown."""
    patient = patient_service.load(session, actor, patient_id, Permission.VISIT_WRITE)
    values = form_values(form, lists=("zones", "confirm"))
    checks: list[dict[str, Any]] = []
    try:
        body = visit_values(
            values, patient.id, ZoneInfo(clinic_timezone(session, patient.clinic_id))
        )
        data, errors = validate(VisitCreate, body)
    except ValueError:
        data, errors = None, {"performed_at": "Use a date and time like 2026-05-01T09:30"}

    def save(data: VisitCreate) -> Response:
        try:
            visit = service.create(session, actor, data, books)
        except RuleViolation as exc:
            checks.extend(exc.extra.get("checks", []))
            raise
        return redirect(
            f"/patients/{patient_id}/visits/{visit.id}", "Visit recorded; stock deducted."
        )

    def show_form(errors: dict[str, str]) -> Response:
        return _visits_tab(request, session, actor, patient_id, values, errors, checks, 422)

    return submit_form(session, data, errors, save, show_form)


@router.get("/patients/{patient_id}/visits/{visit_id}", response_class=HTMLResponse)
def visit_detail(
    request: Request,
    patient_id: uuid.UUID,
    visit_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.VISIT_READ)],
) -> Response:
    visit = service.get_visit(session, actor, visit_id)
    patient = patient_service.load(session, actor, visit.patient_id, Permission.VISIT_READ)
    if patient.id != patient_id:
        return redirect(f"/patients/{patient.id}/visits/{visit.id}")
    return patient_page(
        request, actor, patient, "visits", "visits/detail.html", {"visit": visit, "errors": {}}
    )


@router.post("/patients/{patient_id}/visits/{visit_id}/void", response_class=HTMLResponse)
def void_visit(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    visit_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.VISIT_WRITE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(VisitVoid, values)

    def save(data: VisitVoid) -> Response:
        service.void(session, actor, visit_id, data.reason)
        return redirect(
            f"/patients/{patient_id}/visits/{visit_id}", "Visit marked as entered in error."
        )

    def show_form(errors: dict[str, str]) -> Response:
        visit = service.get_visit(session, actor, visit_id)
        patient = patient_service.load(session, actor, visit.patient_id, Permission.VISIT_READ)
        return patient_page(
            request,
            actor,
            patient,
            "visits",
            "visits/detail.html",
            {"visit": visit, "errors": errors},
            status_code=422,
        )

    return submit_form(session, data, errors, save, show_form)
