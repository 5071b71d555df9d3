"""Aftercare use cases: precautions of a visit, declared events, booking conflicts, opt-out.

Services flush, never commit; each checks scope and writes an audit entry for what it reads or
changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.aftercare import sessions
from mesoclinic.aftercare.calendar import CalendarAppointment, build_calendar
from mesoclinic.aftercare.models import DeclaredEvent
from mesoclinic.aftercare.rulebook import AftercareRulebook
from mesoclinic.aftercare.rules import (
    DeclaredEventSpan,
    PrecautionConflict,
    PrecautionWindow,
    conflicts,
    precaution_windows,
)
from mesoclinic.aftercare.schemas import DeclaredEventCreate
from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import Conflict, InvalidTransition, NotFound
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.plans import clinic_calendar
from mesoclinic.plans.models import Appointment, PlanSession
from mesoclinic.plans.schedule import is_open
from mesoclinic.plans.service import plan_sessions_for
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.security.service import clinic_timezone
from mesoclinic.visits.models import Visit, VisitStatus


def visit_precautions(
    session: Session,
    actor: Actor,
    visit_id: uuid.UUID,
    rulebook: AftercareRulebook,
    action: str = "read",
) -> tuple[Visit, list[PrecautionWindow]]:
    """The precaution windows of one completed visit (audited as `action`: read or export)."""
    visit = patient_service.load_owned(
        session, actor, Visit, visit_id, Permission.AFTERCARE_READ, "Visit"
    )
    if visit.status != VisitStatus.COMPLETED:
        raise Conflict(
            "This visit was marked entered in error; it has no aftercare", code="visit_voided"
        )
    windows = precaution_windows(
        visit.performed_at, clinic_timezone(session, visit.clinic_id), rulebook
    )
    audit.record(
        session,
        actor,
        action,
        "aftercare",
        visit.id,
        patient_id=visit.patient_id,
        clinic_id=visit.clinic_id,
    )
    return visit, windows


def _patient(
    session: Session, actor: Actor, patient_id: uuid.UUID, permission: Permission
) -> Patient:
    return patient_service.load(session, actor, patient_id, permission)


def _active_events(session: Session, patient_id: uuid.UUID) -> list[DeclaredEvent]:
    stmt = (
        select(DeclaredEvent)
        .where(DeclaredEvent.patient_id == patient_id, DeclaredEvent.status == RecordStatus.ACTIVE)
        .order_by(DeclaredEvent.starts_on)
    )
    return list(session.execute(stmt).scalars())


def declared_events(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[DeclaredEvent]:
    """The patient's active declared events, soonest first (read audited)."""
    patient = _patient(session, actor, patient_id, Permission.AFTERCARE_READ)
    events = _active_events(session, patient.id)
    audit.record(
        session,
        actor,
        "read",
        "declared_event",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"count": len(events)},
    )
    return events


def declare_event(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: DeclaredEventCreate
) -> DeclaredEvent:
    """Record an upcoming event the patient plans."""
    patient = _patient(session, actor, patient_id, Permission.AFTERCARE_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This patient record was marked entered in error")
    event = DeclaredEvent(
        patient_id=patient.id,
        kind=data.kind,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        note=data.note,
        created_by=actor.username,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "declared_event",
        event.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={
            "kind": data.kind,
            "starts_on": data.starts_on.isoformat(),
            "ends_on": data.ends_on.isoformat(),
        },
    )
    return event


def void_event(
    session: Session, actor: Actor, event_id: uuid.UUID, patient_id: uuid.UUID | None = None
) -> DeclaredEvent:
    """Withdraw a declared event (kept, marked entered-in-error)."""
    event = session.get(DeclaredEvent, event_id)
    if event is None or (patient_id is not None and event.patient_id != patient_id):
        raise NotFound("Declared event not found")
    patient = _patient(session, actor, event.patient_id, Permission.AFTERCARE_WRITE)
    if event.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This event was already withdrawn")
    event.status, event.voided_at, event.voided_by = (
        RecordStatus.ENTERED_IN_ERROR,
        utcnow(),
        actor.username,
    )
    session.flush()
    audit.record(
        session,
        actor,
        "void",
        "declared_event",
        event.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return event


def set_email_opt_out(
    session: Session, actor: Actor, patient_id: uuid.UUID, opt_out: bool
) -> Patient:
    """Turn reminder and aftercare emails off or on for a patient."""
    patient = _patient(session, actor, patient_id, Permission.AFTERCARE_WRITE)
    previous = patient.email_opt_out
    patient.email_opt_out = opt_out
    patient.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "email_preference",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"email_opt_out": [previous, opt_out]},
    )
    return patient


def booking_warnings(
    session: Session,
    patient_id: uuid.UUID,
    starts_at: datetime,
    *,
    rulebook: AftercareRulebook,
    today: date | None = None,
) -> list[PrecautionConflict]:
    """Declared events that a session at `starts_at` would put inside a precaution window.

    No permission check or audit: the booking flow calling it has done both.
    """
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("Patient not found")
    return _warner(session, patient, rulebook, today)(starts_at)


def _warner(
    session: Session, patient: Patient, rulebook: AftercareRulebook, today: date | None = None
) -> Callable[[datetime], list[PrecautionConflict]]:
    """Booking warnings for any start time, loading the patient's events and calendar once."""
    tz = clinic_timezone(session, patient.clinic_id)
    events = [
        DeclaredEventSpan(e.kind, e.starts_on, e.ends_on, e.note or "")
        for e in _active_events(session, patient.id)
    ]
    earliest = today or utcnow().astimezone(ZoneInfo(tz)).date()
    calendar = clinic_calendar.load(session, patient.clinic_id)

    def bookable(day: date) -> bool:  # suggest only days the clinic is open
        return is_open(day, calendar.opening_days, calendar.closures)

    def warnings(starts_at: datetime) -> list[PrecautionConflict]:
        return conflicts(starts_at, events, tz, rulebook, earliest=earliest, bookable=bookable)

    return warnings


def booking_note(
    session: Session, patient_id: uuid.UUID, starts_at: datetime, rulebook: AftercareRulebook
) -> str:
    """The booking warnings as one sentence for a flash message ("" when there are none)."""
    found = booking_warnings(session, patient_id, starts_at, rulebook=rulebook)
    return "".join(f" Aftercare warning: {f.reason}" for f in found)


def precaution_conflicts(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    starts_at: datetime,
    rulebook: AftercareRulebook,
) -> list[PrecautionConflict]:
    """Booking warnings for a proposed session time (read audited)."""
    patient = _patient(session, actor, patient_id, Permission.AFTERCARE_READ)
    found = booking_warnings(session, patient.id, starts_at, rulebook=rulebook)
    audit.record(
        session,
        actor,
        "read",
        "precaution_conflicts",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"starts_at": starts_at.isoformat(), "warnings": len(found)},
    )
    return found


@dataclass
class Overview:
    """What the Aftercare tab and portal show for one patient."""

    patient: Patient
    timezone: str
    now: datetime
    current: list[PrecautionWindow] = field(default_factory=list)
    upcoming: list[PrecautionWindow] = field(default_factory=list)
    appointments: list[tuple[Appointment, list[PrecautionConflict]]] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    plan_sessions: list[PlanSession] = field(default_factory=list)
    events: list[DeclaredEvent] = field(default_factory=list)


def overview(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    rulebook: AftercareRulebook,
    now: datetime,
) -> Overview:
    """Current precautions, next sessions, plan, declared events (read audited)."""
    patient = _patient(session, actor, patient_id, Permission.AFTERCARE_READ)
    tz = clinic_timezone(session, patient.clinic_id)
    view = Overview(
        patient,
        tz,
        now,
        events=_active_events(session, patient.id),
        visits=sessions.latest_visits(session, patient.id),
        plan_sessions=plan_sessions_for(session, patient.id),
    )
    appointments = sessions.next_appointments(session, patient.id, now)
    starts = [v.performed_at for v in sessions.recent_visits(session, patient.id, now)]
    for start in sorted(starts + [a.starts_at for a in appointments]):
        view.current += [w for w in precaution_windows(start, tz, rulebook) if w.contains(now)]
    warn = _warner(session, patient, rulebook)
    view.appointments = [(a, warn(a.starts_at)) for a in appointments]
    if appointments:
        view.upcoming = [
            w
            for w in precaution_windows(appointments[0].starts_at, tz, rulebook)
            if w.starts_at > now
        ]
    view.current.sort(key=lambda w: w.ends_at)
    audit.record(
        session,
        actor,
        "read",
        "aftercare",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"view": "overview"},
    )
    return view


def calendar_ics(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    rulebook: AftercareRulebook,
    now: datetime,
) -> bytes:
    """The patient's .ics: next appointments and precaution windows (export audited)."""
    patient = _patient(session, actor, patient_id, Permission.AFTERCARE_READ)
    clinic = session.get(Clinic, patient.clinic_id)
    tz = clinic_timezone(session, patient.clinic_id)
    appointments = [
        CalendarAppointment(
            a.id,
            a.starts_at,
            a.duration_minutes,
            clinic.name if clinic else "",
            precaution_windows(a.starts_at, tz, rulebook),
        )
        for a in sessions.next_appointments(session, patient.id, now)
    ]
    running = [
        (f"visit-{v.id}", w)
        for v in sessions.recent_visits(session, patient.id, now)
        for w in precaution_windows(v.performed_at, tz, rulebook)
        if w.ends_at > now
    ]
    audit.record(
        session,
        actor,
        "export",
        "calendar",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"appointments": len(appointments), "running_windows": len(running)},
    )
    return build_calendar(appointments, now, running)
