"""Demo data: declared events (one conflicting with a booked session) and outbox messages.

Uses the appointments the plans demo booked; patients without one get a session booked here
through the plans booking service, so the Aftercare tab and the outbox page always show data.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.aftercare import scheduler, sessions
from mesoclinic.aftercare.models import DeclaredEvent, OutboxMessage, OutboxStatus
from mesoclinic.aftercare.rulebook import AftercareRulebook, load
from mesoclinic.demo.seed import MAIN_CLINIC, PATIENT_USERNAME, DemoContext
from mesoclinic.errors import DomainError
from mesoclinic.patients.models import Patient
from mesoclinic.plans import booking
from mesoclinic.plans.models import Appointment
from mesoclinic.plans.schemas import AppointmentCreate
from mesoclinic.visits.models import Visit, VisitStatus

DEMO_PATIENTS = 4  # main-clinic patients given events and reminders
SEND_DELAY = timedelta(minutes=2)
PAST_VISITS = timedelta(days=30)


def _next_appointment(session: Session, patient: Patient, now: datetime) -> Appointment | None:
    found = sessions.next_appointments(session, patient.id, now, limit=1)
    return found[0] if found else None


def _book(
    session: Session, ctx: DemoContext, patient: Patient, days_ahead: int
) -> Appointment | None:
    """Book a 30-minute session on the first free open slot from `days_ahead` days on."""
    tz = ZoneInfo(ctx.clinics[MAIN_CLINIC].timezone)
    actor = ctx.actor("reception.khan")
    start_day = ctx.now.astimezone(tz).date() + timedelta(days=days_ahead)
    for offset in range(14):
        for hour in (10, 11, 14, 15, 16):
            starts = datetime.combine(start_day + timedelta(days=offset), time(hour), tzinfo=tz)
            data = AppointmentCreate(
                patient_id=patient.id,
                practitioner_id=ctx.staff["dr.moreau"].id,
                room="Room 1",
                starts_at=starts,
                duration_minutes=30,
                note="Mesotherapy session (aftercare demo)",
            )
            try:
                with session.begin_nested():
                    return booking.book(session, actor, data)
            except DomainError:
                continue  # closed day or taken slot: try the next one
    return None


def _event(
    session: Session, patient: Patient, kind: str, starts_on: date, days: int, note: str
) -> None:
    session.add(
        DeclaredEvent(
            patient_id=patient.id,
            kind=kind,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=days - 1),
            note=note,
            created_by="demo",
        )
    )


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """Declared events for a few patients and a realistic outbox."""
    clinic_id = ctx.clinics[MAIN_CLINIC].id
    portal = ctx.staff[PATIENT_USERNAME].patient_id
    chosen = [p for p, _ in ctx.patients if p.id == portal]
    chosen += [
        p
        for p, _ in ctx.patients
        if p.clinic_id == clinic_id and p.id != portal and p.email and not p.email_opt_out
    ][: DEMO_PATIENTS - 2]
    # One patient who opted out of email: their reminders show as "skipped".
    chosen += [p for p, _ in ctx.patients if p.clinic_id == clinic_id and p.email_opt_out][:1]
    for index, patient in enumerate(chosen):
        appointment = _next_appointment(session, patient, ctx.now) or _book(
            session, ctx, patient, days_ahead=3 + index
        )
        if appointment is None:
            continue
        tz = ZoneInfo(ctx.clinics[MAIN_CLINIC].timezone)
        session_day = appointment.starts_at.astimezone(tz).date()
        if index == 0:  # conflicting: hair colour booked three days after the session
            _event(
                session,
                patient,
                "hair_colouring",
                session_day + timedelta(days=3),
                1,
                "Salon appointment for highlights",
            )
            _event(
                session,
                patient,
                "beach_holiday",
                session_day + timedelta(days=30),
                8,
                "Family holiday in the Algarve",
            )
        elif index == 1:
            _event(session, patient, "sauna", session_day + timedelta(days=14), 2, "Spa weekend")
    session.flush()
    rulebook = load(ctx.settings.aftercare_rulebook)
    scheduler.queue_appointment_reminders(session, ctx.now, rulebook)
    _past_aftercare_emails(session, ctx.now, rulebook)
    _mark_due_as_delivered(session, ctx.now)
    ctx.extra["aftercare_demo_patients"] = [p.id for p in chosen]


def _past_aftercare_emails(session: Session, now: datetime, rulebook: AftercareRulebook) -> None:
    """The aftercare emails the worker would have sent after the demo's recent visits."""
    stmt = select(Visit).where(
        Visit.status == VisitStatus.COMPLETED,
        Visit.performed_at >= now - PAST_VISITS,
        Visit.performed_at <= now,
    )
    for visit in session.execute(stmt).scalars():
        scheduler.enqueue_aftercare(session, visit, rulebook, visit.performed_at)


def _mark_due_as_delivered(session: Session, now: datetime) -> None:
    """Messages already due count as sent a moment after they fell due, as a worker would."""
    due = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.send_after <= now
        )
    )
    for message in due.scalars():
        message.status, message.attempts = OutboxStatus.SENT, 1
        message.sent_at = min(message.send_after + SEND_DELAY, now)
        message.created_at = min(message.created_at, message.send_after)
    session.flush()
