"""JSON routes for protocols, treatment plans, plan sessions, appointments and clinic days."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from mesoclinic.aftercare.rulebook import AftercareRulebook
from mesoclinic.aftercare.service import booking_warnings
from mesoclinic.plans import appointments, booking, clinic_calendar, service
from mesoclinic.plans.models import Appointment, TreatmentPlan
from mesoclinic.plans.protocols import Protocol
from mesoclinic.plans.schemas import (
    AppointmentCreate,
    AppointmentRead,
    AppointmentStatusUpdate,
    ClinicCalendarRead,
    ClinicCalendarUpdate,
    ClosureCreate,
    ClosureRead,
    ConflictRead,
    PhaseRead,
    PlanCreate,
    PlanRead,
    PlanStop,
    PlanTransition,
    ProtocolRead,
    SessionBooking,
    SessionReschedule,
)
from mesoclinic.schemas_common import UtcDatetime
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import (
    Allowed,
    DbSession,
    Idempotency,
    PageOffset,
    SettingsDep,
    created_once,
    json_answer,
)
from mesoclinic.security.permissions import Permission
from mesoclinic.web.rulebooks import AftercareRules, ScreeningRules

router = APIRouter(prefix="/api/v1", tags=["plans"])
Sequence = Annotated[int, Path(ge=1, le=200)]


def protocol_read(protocol: Protocol) -> ProtocolRead:
    return ProtocolRead(
        code=protocol.code,
        name=protocol.name,
        source=protocol.source,
        procedure=protocol.procedure,
        cocktail=protocol.cocktail,
        session_count=protocol.session_count,
        includes_prp=protocol.includes_prp,
        phases=[
            PhaseRead(
                name=p.name,
                sessions=p.sessions,
                interval_days=p.interval_days,
                window_before=p.window_before,
                window_after=p.window_after,
                prp_sessions=list(p.prp_sessions),
                week_offsets=list(p.week_offsets) if p.week_offsets else None,
                open_ended=p.open_ended,
            )
            for p in protocol.phases
        ],
    )


def plan_read(plan: TreatmentPlan) -> PlanRead:
    return PlanRead.model_validate(plan)


def booked_read(
    session: DbSession, appointment: Appointment, rulebook: AftercareRulebook
) -> AppointmentRead:
    """The new appointment with aftercare warnings (declared events inside its windows)."""
    read = AppointmentRead.model_validate(appointment)
    read.warnings = [
        ConflictRead(**asdict(f))
        for f in booking_warnings(
            session, appointment.patient_id, appointment.starts_at, rulebook=rulebook
        )
    ]
    return read


@router.get("/protocols", response_model=list[ProtocolRead])
def list_protocols(
    settings: SettingsDep, actor: Annotated[Actor, Allowed(Permission.PLAN_READ)]
) -> list[ProtocolRead]:
    """The protocol templates (from MESOCLINIC_PROTOCOLS or the packaged defaults)."""
    return [protocol_read(p) for p in service.protocol_book(settings.protocols)]


@router.post("/patients/{patient_id}/plans", response_model=PlanRead, status_code=201)
def create_plan(
    patient_id: uuid.UUID,
    body: PlanCreate,
    session: DbSession,
    settings: SettingsDep,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
    rulebook: ScreeningRules,
) -> Response:
    """Generate a plan from a protocol and start date; active plans must pass the gate, and an
    allergy to the protocol's cocktail must be confirmed in `confirmed_warnings`."""

    def make() -> tuple[PlanRead, str]:
        plan = service.create(
            session, actor, patient_id, body, rulebook=rulebook, protocols_path=settings.protocols
        )
        return plan_read(plan), f"/api/v1/plans/{plan.id}"

    return created_once(session, actor, once, make)


@router.get("/patients/{patient_id}/plans", response_model=list[PlanRead])
def list_plans(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_READ)],
) -> list[PlanRead]:
    return [plan_read(p) for p in service.list_for_patient(session, actor, patient_id)]


@router.get("/plans/{plan_id}", response_model=PlanRead)
def get_plan(
    plan_id: uuid.UUID, session: DbSession, actor: Annotated[Actor, Allowed(Permission.PLAN_READ)]
) -> PlanRead:
    return plan_read(service.get(session, actor, plan_id))


@router.post("/plans/{plan_id}/stop", response_model=PlanRead)
def stop_plan(
    plan_id: uuid.UUID,
    body: PlanStop,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
) -> PlanRead:
    """Stop a plan for a stated reason; its booked appointments are cancelled."""
    return plan_read(service.transition(session, actor, plan_id, "stop", body.reason))


@router.post("/plans/{plan_id}/{action}", response_model=PlanRead)
def change_plan_status(
    plan_id: uuid.UUID,
    action: Literal["activate", "pause", "resume", "complete"],
    session: DbSession,
    settings: SettingsDep,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
    rulebook: ScreeningRules,
    body: PlanTransition | None = None,
) -> PlanRead:
    """Activate, pause, resume or complete a plan (activate and resume re-check the gate)."""
    plan = service.transition(
        session,
        actor,
        plan_id,
        action,
        body.reason if body else None,
        rulebook=rulebook,
        protocols_path=settings.protocols,
    )
    return plan_read(plan)


@router.post("/plans/{plan_id}/sessions/{sequence}/reschedule", response_model=PlanRead)
def reschedule_session(
    plan_id: uuid.UUID,
    sequence: Sequence,
    body: SessionReschedule,
    session: DbSession,
    settings: SettingsDep,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
) -> PlanRead:
    """Move a planned or missed session; later sessions shift to keep minimum intervals."""
    return plan_read(
        service.reschedule_session(
            session, actor, plan_id, sequence, body.new_date, protocols_path=settings.protocols
        )
    )


@router.post(
    "/plans/{plan_id}/sessions/{sequence}/book", response_model=AppointmentRead, status_code=201
)
def book_session(
    plan_id: uuid.UUID,
    sequence: Sequence,
    body: SessionBooking,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
    rules: AftercareRules,
    once: Idempotency,
) -> Response:
    """Book an appointment for a plan session (a date inside its window moves the session)."""

    def make() -> tuple[AppointmentRead, str]:
        appointment = booking.book_for_session(session, actor, plan_id, sequence, body)
        read = booked_read(session, appointment, rules)
        return read, f"/api/v1/appointments/{appointment.id}"

    return created_once(session, actor, once, make)


@router.post(
    "/appointments", response_model=AppointmentRead, status_code=201, tags=["appointments"]
)
def create_appointment(
    body: AppointmentCreate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
    rules: AftercareRules,
    once: Idempotency,
) -> Response:
    """Book a practitioner and room; 409 `double_booking` when either is taken."""

    def make() -> tuple[AppointmentRead, str]:
        appointment = booking.book(session, actor, body)
        read = booked_read(session, appointment, rules)
        return read, f"/api/v1/appointments/{appointment.id}"

    return created_once(session, actor, once, make)


@router.get("/appointments", response_model=list[AppointmentRead], tags=["appointments"])
def list_appointments(
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_READ)],
    start: Annotated[UtcDatetime, Query(description="inclusive, with zone")],
    end: Annotated[UtcDatetime, Query(description="exclusive, with zone")],
    practitioner_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=booking.MAX_PAGE)] = booking.MAX_PAGE,
    offset: PageOffset = 0,
) -> Response:
    """Appointments starting in [start, end) (at most 62 days) in the caller's scope, in time
    order, at most `limit` (500) per request: a full page means ask again from `offset + limit`."""
    rows = booking.in_range(
        session,
        actor,
        start,
        end,
        clinic_id=clinic_id,
        practitioner_id=practitioner_id,
        patient_id=patient_id,
        limit=limit,
        offset=offset,
    )
    return json_answer([AppointmentRead.model_validate(a) for a, _ in rows])


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, tags=["appointments"])
def get_appointment(
    appointment_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_READ)],
) -> AppointmentRead:
    return AppointmentRead.model_validate(appointments.get(session, actor, appointment_id))


@router.patch(
    "/appointments/{appointment_id}", response_model=AppointmentRead, tags=["appointments"]
)
def update_appointment_status(
    appointment_id: uuid.UUID,
    body: AppointmentStatusUpdate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_WRITE)],
) -> AppointmentRead:
    """Arrived, done, no-show or cancelled; cancelled and no-show free the slot."""
    appointment = appointments.change_status(
        session, actor, appointment_id, body.status, body.reason
    )
    return AppointmentRead.model_validate(appointment)


def calendar_read(session: DbSession, clinic_id: uuid.UUID) -> ClinicCalendarRead:
    cal = clinic_calendar.load(session, clinic_id)
    return ClinicCalendarRead(
        clinic_id=clinic_id,
        timezone=str(cal.timezone),
        opening_weekdays=sorted(cal.opening_days),
        opens_at=f"{cal.opens_at:%H:%M}",
        closes_at=f"{cal.closes_at:%H:%M}",
        rooms=list(cal.rooms),
        closures=[
            ClosureRead.model_validate(c) for c in clinic_calendar.closures(session, clinic_id)
        ],
    )


@router.get("/clinic-calendar", response_model=ClinicCalendarRead, tags=["clinic calendar"])
def get_clinic_calendar(
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.APPOINTMENT_READ)],
    clinic_id: uuid.UUID | None = None,
) -> ClinicCalendarRead:
    """Opening weekdays (0 = Monday), hours, rooms and closure days of the clinic."""
    return calendar_read(session, clinic_calendar.target_clinic(session, actor, clinic_id))


@router.put("/clinic-calendar", response_model=ClinicCalendarRead, tags=["clinic calendar"])
def update_clinic_calendar(
    body: ClinicCalendarUpdate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CLINIC_CALENDAR_WRITE)],
    clinic_id: uuid.UUID | None = None,
) -> ClinicCalendarRead:
    cal = clinic_calendar.update(session, actor, clinic_id, body)
    return calendar_read(session, cal.clinic_id)


@router.post(
    "/clinic-calendar/closures",
    response_model=ClosureRead,
    status_code=201,
    tags=["clinic calendar"],
)
def add_closure(
    body: ClosureCreate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CLINIC_CALENDAR_WRITE)],
    once: Idempotency,
    clinic_id: uuid.UUID | None = None,
) -> Response:
    """Close the clinic on a day; new plans and bookings skip it."""

    def make() -> tuple[ClosureRead, str]:
        closure = clinic_calendar.add_closure(session, actor, clinic_id, body)
        return ClosureRead.model_validate(closure), ""

    return created_once(session, actor, once, make)


@router.delete("/clinic-calendar/closures/{closure_id}", status_code=204, tags=["clinic calendar"])
def remove_closure(
    closure_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CLINIC_CALENDAR_WRITE)],
) -> None:
    clinic_calendar.remove_closure(session, actor, closure_id)
