"""HTML pages of the patient's "Plan" tab: current plan, dated sessions, actions, new plan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.errors import RuleViolation
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.pages import patient_page
from mesoclinic.plans import appointments, service
from mesoclinic.plans.models import Appointment, TreatmentPlan
from mesoclinic.plans.schemas import PlanCreate, PlanStop, PlanTransition, SessionReschedule
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import PostedForm, form_values, submit_form, validate
from mesoclinic.web.rulebooks import ScreeningRules
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
STATUS_BADGE = {
    "active": "ok",
    "paused": "warn",
    "draft": "",
    "completed": "",
    "stopped": "bad",
    "planned": "",
    "booked": "ok",
    "done": "ok",
    "missed": "bad",
    "cancelled": "",
    "arrived": "ok",
    "no_show": "bad",
}


@router.get("/patients/{patient_id}/plan", response_class=HTMLResponse)
def plan_tab(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_READ)],
) -> Response:
    return _plan_tab(request, session, actor, patient_id, {}, {})


def _plan_tab(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    checks: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patient_service.load(session, actor, patient_id, Permission.PLAN_READ)
    plans = service.list_for_patient(session, actor, patient_id)
    current = next((p for p in plans if p.status in service.OPEN_PLAN_STATUSES), None)
    now = datetime.now(UTC)
    upcoming = (
        service.upcoming_appointments(session, patient.id, after=now)
        if actor.can(Permission.APPOINTMENT_READ)
        else []
    )
    if upcoming:
        audit.record(
            session,
            actor,
            "read",
            "appointment",
            None,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            detail={"upcoming": [str(a.id) for a in upcoming]},
        )
    protocols = service.protocol_book(request.app.state.settings.protocols)
    open_ended = current is not None and any(
        p.code == current.protocol_code and p.phases[-1].open_ended for p in protocols
    )
    return patient_page(
        request,
        actor,
        patient,
        "plan",
        "plans/plan_tab.html",
        {
            "plans": plans,
            "current": current,
            "upcoming": upcoming,
            "open_ended": open_ended,
            "appointments": _appointments_of(session, current),
            "protocols": protocols,
            "values": values,
            "errors": errors,
            "checks": checks or [],
            "badge": STATUS_BADGE,
            "today": now.date(),
        },
        status_code=status_code,
    )


def _appointments_of(session: Session, plan: TreatmentPlan | None) -> dict[uuid.UUID, Any]:
    if plan is None:
        return {}
    ids = [s.appointment_id for s in plan.sessions if s.appointment_id]
    return {a.id: a for a in (session.get(Appointment, i) for i in ids) if a is not None}


@router.post("/patients/{patient_id}/plan", response_class=HTMLResponse)
def create_plan(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
    rulebook: ScreeningRules,
) -> Response:
    values = form_values(form, lists=("confirm",))
    values["activate"] = values.get("activate") == "on"
    data, errors = validate(
        PlanCreate,
        {k: v for k, v in values.items() if k != "confirm"}
        | {"confirmed_warnings": values.get("confirm", [])},
    )
    checks: list[dict[str, Any]] = []

    def save(data: PlanCreate) -> Response:
        protocols = request.app.state.settings.protocols
        try:
            service.create(
                session, actor, patient_id, data, rulebook=rulebook, protocols_path=protocols
            )
        except RuleViolation as exc:
            checks.extend(exc.extra.get("checks", []))
            raise
        return redirect(f"/patients/{patient_id}/plan", "Plan created.")

    def show_form(errors: dict[str, str]) -> Response:
        return _plan_tab(request, session, actor, patient_id, values, errors, checks, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/plans/{plan_id}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    form: PostedForm,
    plan_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
    rulebook: ScreeningRules,
) -> Response:
    values = form_values(form)
    plan = service.load_plan(session, actor, plan_id, Permission.PLAN_WRITE)
    action = values.pop("action", "")
    if action not in service.TRANSITIONS:
        return _plan_tab(
            request,
            session,
            actor,
            plan.patient_id,
            values,
            {"action": "Choose pause, resume, complete, stop or activate"},
            status_code=422,
        )
    schema = PlanStop if action == "stop" else PlanTransition
    data, errors = validate(schema, values)
    checks: list[dict[str, Any]] = []

    def save(data: PlanTransition) -> Response:
        protocols = request.app.state.settings.protocols
        try:
            service.transition(
                session,
                actor,
                plan_id,
                action,
                data.reason,
                rulebook=rulebook,
                protocols_path=protocols,
            )
        except RuleViolation as exc:
            checks.extend(exc.extra.get("checks", []))
            raise
        return redirect(f"/patients/{plan.patient_id}/plan", f"Plan {action} done.")

    def show_form(errors: dict[str, str]) -> Response:
        return _plan_tab(request, session, actor, plan.patient_id, values, errors, checks, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/plans/{plan_id}/sessions/{sequence}/reschedule", response_class=HTMLResponse)
def reschedule(
    request: Request,
    form: PostedForm,
    plan_id: uuid.UUID,
    sequence: int,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
) -> Response:
    values = form_values(form)
    plan = service.load_plan(session, actor, plan_id, Permission.PLAN_WRITE)
    data, errors = validate(SessionReschedule, values)
    checks: list[dict[str, Any]] = []

    def save(data: SessionReschedule) -> Response:
        protocols = request.app.state.settings.protocols
        try:
            service.reschedule_session(
                session, actor, plan_id, sequence, data.new_date, protocols_path=protocols
            )
        except RuleViolation as exc:
            checks.extend(exc.extra.get("checks", []))
            raise
        return redirect(
            f"/patients/{plan.patient_id}/plan", f"Session {sequence} moved; later sessions follow."
        )

    def show_form(errors: dict[str, str]) -> Response:
        shown = {f"reschedule_{sequence}": errors.get("new_date") or next(iter(errors.values()))}
        return _plan_tab(request, session, actor, plan.patient_id, values, shown, checks, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/appointments/{appointment_id}/status", response_class=HTMLResponse)
def appointment_status(
    request: Request,
    form: PostedForm,
    appointment_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
) -> Response:
    """Arrived / done / no-show / cancel buttons on the calendar and the plan tab."""
    values = form_values(form)
    back = values.get("next", "/calendar")
    if not back.startswith("/") or back.startswith("//"):
        back = "/calendar"
    appointments.change_status(
        session, actor, appointment_id, values.get("status", ""), values.get("reason")
    )
    return redirect(back, "Appointment updated.")
