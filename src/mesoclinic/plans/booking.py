"""Appointments: book (free or from a plan session), list for the calendar.

Double booking is refused twice over: a friendly overlap check names the clash, and the
`booking_slots` primary key makes the refusal atomic when two requests race (the loser's
insert fails, on PostgreSQL after waiting for the winner's commit; SQLite serialises writers
with BEGIN IMMEDIATE). Slots are inserted before any audit entry so every booking takes its
locks in the same order (slots, then the audit head) and concurrent bookings cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import Conflict, InvalidInput, InvalidTransition
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.plans import clinic_calendar
from mesoclinic.plans import service as plan_service
from mesoclinic.plans.clinic_calendar import ClinicCalendar
from mesoclinic.plans.models import (
    SLOT_MINUTES,
    Appointment,
    AppointmentStatus,
    BookingSlot,
    PlanSession,
    PlanSessionStatus,
    PlanStatus,
)
from mesoclinic.plans.schedule import is_open
from mesoclinic.plans.schemas import AppointmentCreate, SessionBooking
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import User
from mesoclinic.security.permissions import Permission, Role

PRACTITIONER_ROLES = ("clinician", "nurse")


def practitioners(session: Session, clinic_id: uuid.UUID) -> list[User]:
    """Active clinicians and nurses of a clinic, by name."""
    return list(
        session.execute(
            select(User)
            .where(
                User.clinic_id == clinic_id,
                User.active.is_(True),
                User.role.in_(PRACTITIONER_ROLES),
            )
            .order_by(User.display_name, User.username)
        ).scalars()
    )


def _slots(appointment: Appointment) -> list[BookingSlot]:
    count = appointment.duration_minutes // SLOT_MINUTES
    resources = (
        f"practitioner:{appointment.practitioner_id}",
        f"room:{appointment.clinic_id}:{appointment.room.lower()}",
    )
    return [
        BookingSlot(
            resource=r,
            slot_start=appointment.starts_at + timedelta(minutes=SLOT_MINUTES * i),
            appointment_id=appointment.id,
        )
        for r in resources
        for i in range(count)
    ]


def _check_practitioner(session: Session, practitioner_id: uuid.UUID, clinic_id: uuid.UUID) -> User:
    user = session.get(User, practitioner_id)
    if (
        user is None
        or user.clinic_id != clinic_id
        or not user.active
        or user.role not in PRACTITIONER_ROLES
    ):
        raise InvalidInput(
            "Choose an active clinician or nurse of the patient's clinic", "practitioner_id"
        )
    return user


def _check_time(
    calendar: ClinicCalendar, starts_at: datetime, minutes: int, allow_past: bool
) -> None:
    local_start = starts_at.astimezone(calendar.timezone)
    local_end = (starts_at + timedelta(minutes=minutes)).astimezone(calendar.timezone)
    day = local_start.date()
    if not is_open(day, calendar.opening_days, calendar.closures):
        raise InvalidInput(f"The clinic is closed on {day:%A %d %B %Y}", "starts_at")
    if (
        local_start.time() < calendar.opens_at
        or local_end.date() != day
        or local_end.time() > calendar.closes_at
    ):
        raise InvalidInput(
            f"Appointments must fit in opening hours "
            f"({calendar.opens_at:%H:%M}-{calendar.closes_at:%H:%M})",
            "starts_at",
        )
    today = datetime.now(UTC).astimezone(calendar.timezone).date()
    if not allow_past and day < today:
        raise InvalidInput("Appointments cannot be booked on a past day", "starts_at")


def _check_room(calendar: ClinicCalendar, room: str) -> str:
    for name in calendar.rooms:
        if name.lower() == room.lower():
            return name
    raise InvalidInput(f"Unknown room; the clinic's rooms are: {', '.join(calendar.rooms)}", "room")


def _clash(session: Session, appointment: Appointment, zone: tzinfo) -> None:
    slots = _slots(appointment)
    held = session.execute(
        select(BookingSlot.resource, Appointment.starts_at)
        .join(Appointment, Appointment.id == BookingSlot.appointment_id)
        .where(
            BookingSlot.resource.in_({s.resource for s in slots}),
            BookingSlot.slot_start >= slots[0].slot_start,
            BookingSlot.slot_start <= slots[-1].slot_start,
        )
    ).first()
    if held is not None:
        what = "practitioner" if held.resource.startswith("practitioner:") else "room"
        raise Conflict(
            f"The {what} is already booked at that time "
            f"(appointment from {held.starts_at.astimezone(zone):%d %b %Y %H:%M %Z})",
            "practitioner_id" if what == "practitioner" else "room",
            code="double_booking",
        )


def _hold(session: Session, appointment: Appointment, zone: tzinfo) -> None:
    """Store the appointment and its slots atomically, or refuse the double booking.

    The refusal names the other appointment's time in the clinic's zone (`zone`).
    """
    _clash(session, appointment, zone)
    try:
        with session.begin_nested():
            session.add(appointment)
            session.flush()
            session.add_all(_slots(appointment))
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Another booking took this practitioner or room at the same time",
            "starts_at",
            code="double_booking",
        ) from exc
    except OperationalError as exc:
        # PostgreSQL breaks a lock cycle between overlapping bookings by failing one of them.
        if getattr(exc.orig, "sqlstate", None) != "40P01":
            raise
        raise Conflict(
            "Another booking for this practitioner or room was being made at the "
            "same time; check the calendar and try again",
            "starts_at",
            code="double_booking",
        ) from exc


def book(
    session: Session,
    actor: Actor,
    data: AppointmentCreate,
    *,
    plan_session: PlanSession | None = None,
    allow_past: bool = False,
) -> Appointment:
    """Book a practitioner and a room for a patient; refuses double booking."""
    patient = patient_service.load(session, actor, data.patient_id, Permission.APPOINTMENT_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidInput("This record was voided", "patient_id")
    _check_practitioner(session, data.practitioner_id, patient.clinic_id)
    calendar = clinic_calendar.load(session, patient.clinic_id)
    room = _check_room(calendar, data.room)
    _check_time(calendar, data.starts_at, data.duration_minutes, allow_past)
    appointment = Appointment(
        id=uuid.uuid4(),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        practitioner_id=data.practitioner_id,
        room=room,
        starts_at=data.starts_at,
        duration_minutes=data.duration_minutes,
        status=AppointmentStatus.BOOKED,
        note=data.note,
        plan_session_id=plan_session.id if plan_session else None,
        created_by=actor.username,
        updated_by=actor.username,
    )
    _hold(session, appointment, calendar.timezone)
    audit.record(
        session,
        actor,
        "create",
        "appointment",
        appointment.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={
            "starts_at": data.starts_at.isoformat(),
            "room": room,
            "practitioner_id": str(data.practitioner_id),
            "minutes": data.duration_minutes,
            "plan_session": plan_session.sequence if plan_session else None,
        },
    )
    return appointment


def book_for_session(
    session: Session, actor: Actor, plan_id: uuid.UUID, sequence: int, data: SessionBooking
) -> Appointment:
    """Book a plan session; a date inside its window moves it (later sessions follow)."""
    plan = plan_service.load_plan(session, actor, plan_id, Permission.APPOINTMENT_WRITE)
    if plan.status != PlanStatus.ACTIVE:
        raise InvalidTransition(f"Sessions of a {plan.status} plan cannot be booked", "status")
    item = plan_service.plan_session_by_number(plan, sequence)
    if item.status != PlanSessionStatus.PLANNED:
        raise InvalidTransition(f"Session {sequence} is {item.status}, not planned", "sequence")
    calendar = clinic_calendar.load(session, plan.clinic_id)
    day = data.starts_at.astimezone(calendar.timezone).date()
    if day != item.planned_date:
        _move_within_window(session, actor, plan.id, item, day)
    minutes = data.duration_minutes or (60 if item.includes_prp else 30)
    appointment = book(
        session,
        actor,
        AppointmentCreate(
            patient_id=plan.patient_id,
            practitioner_id=data.practitioner_id,
            room=data.room,
            starts_at=data.starts_at,
            duration_minutes=minutes,
            note=data.note,
        ),
        plan_session=item,
    )
    item.status, item.appointment_id = PlanSessionStatus.BOOKED, appointment.id
    session.flush()
    return appointment


def _move_within_window(
    session: Session, actor: Actor, plan_id: uuid.UUID, item: PlanSession, day: date
) -> None:
    if not item.window_start <= day <= item.window_end:
        raise InvalidInput(
            f"Session {item.sequence} must be between {item.window_start.isoformat()} and "
            f"{item.window_end.isoformat()}; a clinician can reschedule it outside its window",
            "starts_at",
        )
    plan_service.reschedule_session(
        session, actor, plan_id, item.sequence, day, permission=Permission.APPOINTMENT_WRITE
    )


# The most appointments one request returns (API page, calendar page): a week of a large
# clinic is paged, never sent whole.
MAX_PAGE = 500


def _range_query(
    actor: Actor,
    start: datetime,
    end: datetime,
    *,
    clinic_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    statuses: Sequence[AppointmentStatus] = (),
) -> Select[Appointment]:
    actor.require(Permission.APPOINTMENT_READ)
    if end <= start:
        raise InvalidInput("end must be after start", "end")
    if end - start > timedelta(days=62):
        raise InvalidInput("Ask for at most 62 days at a time", "end")
    stmt = select(Appointment).where(Appointment.starts_at >= start, Appointment.starts_at < end)
    if actor.role is Role.PATIENT:
        stmt = stmt.where(Appointment.patient_id == actor.patient_id)
    elif not actor.is_group_admin:
        stmt = stmt.where(Appointment.clinic_id == actor.clinic_id)
    elif clinic_id:
        stmt = stmt.where(Appointment.clinic_id == clinic_id)
    if practitioner_id:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    if patient_id:
        stmt = stmt.where(Appointment.patient_id == patient_id)
    if statuses:
        stmt = stmt.where(Appointment.status.in_(statuses))
    return stmt


def count_in_range(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    *,
    statuses: Sequence[AppointmentStatus] = (),
) -> int:
    """How many appointments start in [start, end) in the actor's scope (no patient data)."""
    stmt = _range_query(actor, start, end, statuses=statuses)
    counted = select(func.count()).select_from(stmt.with_only_columns(Appointment.id).subquery())
    return int(session.execute(counted).scalar_one())


def in_range(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    *,
    clinic_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    statuses: Sequence[AppointmentStatus] = (),
    limit: int = MAX_PAGE,
    offset: int = 0,
    via: str = "calendar",
) -> Sequence[tuple[Appointment, Patient]]:
    """Appointments starting in [start, end) in the actor's scope, with their patients, in
    time order: at most `limit` (<= MAX_PAGE) from `offset`; each patient's appearance is
    audited as a read, `via` naming the list."""
    stmt = _range_query(
        actor,
        start,
        end,
        clinic_id=clinic_id,
        practitioner_id=practitioner_id,
        patient_id=patient_id,
        statuses=statuses,
    )
    stmt = stmt.order_by(Appointment.starts_at, Appointment.room, Appointment.id)
    page = session.execute(stmt.limit(min(limit, MAX_PAGE)).offset(offset)).scalars()
    appointments = list(page)
    # The page's patients by primary key: joined in the query above, PostgreSQL may hash the
    # whole patients table to meet one week of appointments.
    wanted = {a.patient_id for a in appointments}
    patients = (
        {p.id: p for p in session.execute(select(Patient).where(Patient.id.in_(wanted))).scalars()}
        if wanted
        else {}
    )
    rows = [(a, patients[a.patient_id]) for a in appointments]
    audit.record(
        session,
        actor,
        "search",
        "appointment",
        None,
        detail={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "returned": [str(a.id) for a, _ in rows],
        },
    )
    # Each patient named in the result is a read of that patient (issue 16, item 18).
    audit.record_patient_reads(session, actor, [(p.id, p.clinic_id) for _, p in rows], via=via)
    return rows
