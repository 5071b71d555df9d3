"""Reception calendar (day/week, practitioners as columns, booking form) and clinic days page."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.aftercare.rulebook import AftercareRulebook
from mesoclinic.aftercare.service import booking_note
from mesoclinic.errors import InvalidInput
from mesoclinic.patients.models import Patient
from mesoclinic.plans import booking, clinic_calendar
from mesoclinic.plans import service as plan_service
from mesoclinic.plans.clinic_calendar import ClinicCalendar
from mesoclinic.plans.models import AppointmentStatus, TreatmentPlan
from mesoclinic.plans.pages import STATUS_BADGE
from mesoclinic.plans.picker_pages import chosen_patient, pick_patient
from mesoclinic.plans.schemas import (
    AppointmentCreate,
    ClinicCalendarUpdate,
    ClosureCreate,
    SessionBooking,
)
from mesoclinic.schemas_common import DATE_RANGE_MESSAGE, in_date_range
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.web.dashboard import Panel
from mesoclinic.web.forms import PostedForm, form_values, submit_form, validate
from mesoclinic.web.rulebooks import AftercareRules
from mesoclinic.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ROW_MINUTES = 5
MAX_SEQUENCE = 200  # the API's bound on a session number
PANEL_ROWS = 8  # appointments the dashboard panel lists (its title counts them all)


def _clinic_id(session: Session, actor: Actor, requested: str | None) -> uuid.UUID:
    if actor.clinic_id:
        return actor.clinic_id
    try:
        return uuid.UUID(requested or "")
    except ValueError:
        first = session.execute(select(Clinic.id).order_by(Clinic.name)).scalars().first()
        if first is None:
            raise InvalidInput("No clinic exists yet", "clinic_id") from None
        return first


def _day(value: str | None, cal: ClinicCalendar) -> date:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return datetime.now(cal.timezone).date()
    if not in_date_range(day):
        raise InvalidInput(f"The date {DATE_RANGE_MESSAGE}", "date")
    return day


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
    view: str = "day",
    date: str | None = None,
    clinic_id: str | None = None,
    plan_id: uuid.UUID | None = None,
    sequence: int | None = None,
) -> Response:
    query = {
        "view": view,
        "date": date,
        "clinic_id": clinic_id,
        "plan_id": plan_id,
        "sequence": sequence,
    }
    return _calendar(request, session, actor, query, {}, {})


def _calendar(
    request: Request,
    session: Session,
    actor: Actor,
    query: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    choices: list[Patient] | None = None,
) -> Response:
    """The day or week; `choices`: the patients a typed name matched, to pick from."""
    clinic_id = _clinic_id(session, actor, query.get("clinic_id"))
    cal = clinic_calendar.load(session, clinic_id)
    day = _day(query.get("date"), cal)
    week = query.get("view") == "week"
    first = day - timedelta(days=day.weekday()) if week else day
    days = [first + timedelta(days=i) for i in range(7 if week else 1)]
    start = datetime.combine(first, time(0), cal.timezone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), cal.timezone)
    rows = booking.in_range(session, actor, start, end, clinic_id=clinic_id)
    capped = len(rows) >= booking.MAX_PAGE
    people = booking.practitioners(session, clinic_id)
    target = _plan_session_target(session, actor, query)
    return render(
        request,
        "plans/calendar.html",
        {
            "cal": cal,
            "day": day,
            "days": days,
            "week": week,
            "people": people,
            "blocks": [_block(a, p, cal) for a, p in rows],
            "capped": capped,
            "target": target,
            "choices": choices or [],
            "chosen": None if target else chosen_patient(session, actor, values.get("patient_id")),
            "times": _times(cal),
            "row_minutes": ROW_MINUTES,
            "clinic_id": clinic_id,
            "prev": first - timedelta(days=7 if week else 1),
            "next": first + timedelta(days=7 if week else 1),
            "values": values,
            "errors": errors,
            "weekdays": WEEKDAYS,
            "badge": STATUS_BADGE,
            "closed": {d for d in days if d.weekday() not in cal.opening_days or d in cal.closures},
        },
        status_code=status_code,
    )


def _plan_session_target(session: Session, actor: Actor, query: dict[str, Any]) -> Any:
    if not query.get("plan_id") or not query.get("sequence"):
        return None
    plan = plan_service.load_plan(session, actor, query["plan_id"], Permission.APPOINTMENT_WRITE)
    item = plan_service.plan_session_by_number(plan, int(query["sequence"]))
    audit.record(
        session,
        actor,
        "read",
        "treatment_plan",
        plan.id,
        patient_id=plan.patient_id,
        clinic_id=plan.clinic_id,
        detail={"booking_session": item.sequence},
    )
    return {"plan": plan, "plan_session": item, "patient": session.get(Patient, plan.patient_id)}


def _times(cal: ClinicCalendar) -> list[str]:
    minutes = cal.opens_at.hour * 60 + cal.opens_at.minute
    end = cal.closes_at.hour * 60 + cal.closes_at.minute
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(minutes, end, 30)]


def _block(appointment: Any, patient: Patient, cal: ClinicCalendar) -> dict[str, Any]:
    local = appointment.starts_at.astimezone(cal.timezone)
    opens = cal.opens_at.hour * 60 + cal.opens_at.minute
    offset = local.hour * 60 + local.minute - opens
    return {
        "a": appointment,
        "patient": patient,
        "date": local.date(),
        "time": f"{local:%H:%M}",
        "end": f"{local + timedelta(minutes=appointment.duration_minutes):%H:%M}",
        "row": offset // ROW_MINUTES + 2,
        "span": appointment.duration_minutes // ROW_MINUTES,
    }


@router.post("/calendar/book", response_class=HTMLResponse)
def book(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
    rules: AftercareRules,
) -> Response:
    values = form_values(form)
    query = {k: values.get(k) for k in ("view", "clinic_id")}
    query["date"] = values.get("date")
    errors: dict[str, str] = {}
    try:
        ref = _plan_session_ref(values)
    except InvalidInput as exc:
        return _calendar(request, session, actor, query, values, {"__all__": exc.message}, 422)
    if ref:
        query["plan_id"], query["sequence"] = ref
    starts_at = _local_start(session, actor, values, errors)

    def show_form(errors: dict[str, str]) -> Response:
        return _calendar(request, session, actor, query, values, errors, 422)

    if starts_at is None:
        return show_form(errors)

    def booked() -> Response:
        return redirect(
            f"/calendar?view={query.get('view') or 'day'}&date={values['date']}",
            "Appointment booked." + _aftercare_note(session, values, ref, starts_at, rules),
        )

    def book_session(data: SessionBooking) -> Response:
        assert ref is not None
        booking.book_for_session(session, actor, ref[0], ref[1], data)
        return booked()

    def book_free(data: AppointmentCreate) -> Response:
        booking.book(session, actor, data)
        return booked()

    fields = _booking_fields(values, starts_at)
    if ref:
        return submit_form(session, *validate(SessionBooking, fields), book_session, show_form)
    pick = pick_patient(session, actor, values, _clinic_id(session, actor, values.get("clinic_id")))
    if pick.patient_id is None:
        problem = {"patient": pick.error or "Choose the patient"}
        return _calendar(request, session, actor, query, values, problem, 422, pick.choices)
    values["patient_id"] = fields["patient_id"] = pick.patient_id
    return submit_form(session, *validate(AppointmentCreate, fields), book_free, show_form)


def _plan_session_ref(values: dict[str, Any]) -> tuple[uuid.UUID, int] | None:
    """The (plan id, session number) a booking form names, or None for a free booking.

    Parsed once here: the hidden fields come back from the browser and may be anything.
    """
    if not values.get("plan_id") or not values.get("sequence"):
        return None
    try:
        plan_id, sequence = uuid.UUID(values["plan_id"]), int(values["sequence"])
    except ValueError:
        raise InvalidInput("This plan session could not be found", "plan_id") from None
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise InvalidInput("This plan session could not be found", "sequence")
    return plan_id, sequence


def _aftercare_note(
    session: Session,
    values: dict[str, Any],
    ref: tuple[uuid.UUID, int] | None,
    starts_at: str,
    rules: AftercareRulebook,
) -> str:
    """Declared events the new session puts inside a precaution window (aftercare area)."""
    patient_id: uuid.UUID | None = None
    if ref:
        plan = session.get(TreatmentPlan, ref[0])
        patient_id = plan.patient_id if plan else None
    elif values.get("patient_id"):
        patient_id = uuid.UUID(values["patient_id"])
    if not patient_id:
        return ""
    return booking_note(session, patient_id, datetime.fromisoformat(starts_at), rules)


def _local_start(
    session: Session, actor: Actor, values: dict[str, Any], errors: dict[str, str]
) -> str | None:
    cal = clinic_calendar.load(session, _clinic_id(session, actor, values.get("clinic_id")))
    try:
        day = date.fromisoformat(values.get("date", ""))
        clock = time.fromisoformat(values.get("time", ""))
    except ValueError:
        errors["starts_at"] = "Give a date and a time like 09:30"
        return None
    if not in_date_range(day):
        errors["starts_at"] = f"The date {DATE_RANGE_MESSAGE}"
        return None
    return datetime.combine(day, clock, cal.timezone).isoformat()


def _booking_fields(values: dict[str, Any], starts_at: str) -> dict[str, Any]:
    fields = {
        "practitioner_id": values.get("practitioner_id"),
        "room": values.get("room"),
        "starts_at": starts_at,
        "note": values.get("note"),
    }
    if values.get("duration_minutes"):
        fields["duration_minutes"] = values["duration_minutes"]
    return {k: v for k, v in fields.items() if v is not None}


@router.get("/clinic-calendar", response_class=HTMLResponse)
def clinic_days_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
    clinic_id: str | None = None,
) -> Response:
    return _clinic_days(request, session, actor, _clinic_id(session, actor, clinic_id), {}, {})


def _clinic_days(
    request: Request,
    session: Session,
    actor: Actor,
    clinic_id: uuid.UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    cal = clinic_calendar.load(session, clinic_id)
    return render(
        request,
        "plans/clinic_days.html",
        {
            "cal": cal,
            "closures": clinic_calendar.closures(session, clinic_id),
            "weekdays": WEEKDAYS,
            "values": values,
            "errors": errors,
            "clinic_id": clinic_id,
        },
        status_code=status_code,
    )


@router.post("/clinic-calendar", response_class=HTMLResponse)
def update_clinic_days(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CLINIC_CALENDAR_WRITE)],
) -> Response:
    values = form_values(form, lists=("opening_weekdays",))
    clinic_id = _clinic_id(session, actor, values.pop("clinic_id", None))
    values["rooms"] = [r.strip() for r in values.get("rooms", "").splitlines() if r.strip()]
    data, errors = validate(ClinicCalendarUpdate, values)

    def save(data: ClinicCalendarUpdate) -> Response:
        clinic_calendar.update(session, actor, clinic_id, data)
        return redirect(f"/clinic-calendar?clinic_id={clinic_id}", "Opening days saved.")

    def show_form(errors: dict[str, str]) -> Response:
        shown = {**values, "rooms": "\n".join(values["rooms"])}
        return _clinic_days(request, session, actor, clinic_id, shown, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/clinic-calendar/closures", response_class=HTMLResponse)
def add_closure(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CLINIC_CALENDAR_WRITE)],
) -> Response:
    values = form_values(form)
    clinic_id = _clinic_id(session, actor, values.pop("clinic_id", None))
    data, errors = validate(ClosureCreate, values)

    def save(data: ClosureCreate) -> Response:
        clinic_calendar.add_closure(session, actor, clinic_id, data)
        return redirect(f"/clinic-calendar?clinic_id={clinic_id}", "Closure day added.")

    def show_form(errors: dict[str, str]) -> Response:
        return _clinic_days(request, session, actor, clinic_id, values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/clinic-calendar/closures/{closure_id}/delete", response_class=HTMLResponse)
def remove_closure(
    closure_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CLINIC_CALENDAR_WRITE)],
) -> Response:
    clinic_calendar.remove_closure(session, actor, closure_id)
    return redirect("/clinic-calendar", "Closure day removed.")


def todays_appointments_panel(session: Session, actor: Actor) -> Panel | None:
    """Dashboard panel: the rest of today's appointments in the actor's clinic."""
    if not actor.can(Permission.APPOINTMENT_WRITE) or actor.clinic_id is None:
        return None
    cal = clinic_calendar.load(session, actor.clinic_id)
    now = datetime.now(cal.timezone)
    end = datetime.combine(now.date() + timedelta(days=1), time(0), cal.timezone)
    start = now - timedelta(hours=1)
    waiting = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
    count = booking.count_in_range(session, actor, start, end, statuses=waiting)
    rows = booking.in_range(
        session, actor, start, end, statuses=waiting, limit=PANEL_ROWS, via="todays-appointments"
    )
    lines: list[tuple[str, str | None]] = [
        (
            f"{a.starts_at.astimezone(cal.timezone):%H:%M} {p.given_name} {p.family_name} · "
            f"{a.room} ({a.status})",
            f"/patients/{p.id}/plan",
        )
        for a, p in rows
    ]
    if not lines:
        lines = [("No more appointments today.", None)]
    lines.append(("Open the calendar", "/calendar"))
    return Panel(f"Today's appointments ({count})", lines)
