"""Which reminder emails are due: scans appointments and queues them in the outbox.

Run by the worker on every loop; queueing is idempotent by dedupe key, so scanning again never
duplicates a message. A reminder still queued for an appointment that was cancelled or moved is
skipped (a moved appointment gets fresh reminders under a new key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.aftercare import messages, outbox
from mesoclinic.aftercare.models import OutboxMessage, OutboxStatus
from mesoclinic.aftercare.rulebook import AftercareRulebook
from mesoclinic.aftercare.rules import precaution_windows
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import Appointment
from mesoclinic.security.models import Clinic

REMINDER_BEFORE = timedelta(hours=24)
PRE_VISIT_BEFORE = timedelta(days=7)
ACTIVE_APPOINTMENT = ("booked", "arrived")
REMINDER_KINDS = ("appointment_reminder", "pre_visit_precautions")


class CompletedVisit(Protocol):
    """What the aftercare email needs from a visit (the visits area's Visit has these)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    performed_at: datetime


@dataclass(frozen=True)
class ScanReport:
    queued: int = 0
    withdrawn: int = 0


def _key(kind: str, appointment: Appointment) -> str:
    return f"{kind}:{appointment.id}:{appointment.starts_at.isoformat()}"


def queue_appointment_reminders(
    session: Session, now: datetime, rulebook: AftercareRulebook
) -> ScanReport:
    """Queue the 24-hour and 7-day emails for appointments starting within the next 8 days."""
    stmt = select(Appointment).where(
        Appointment.starts_at > now,
        Appointment.starts_at <= now + PRE_VISIT_BEFORE + timedelta(days=1),
        Appointment.status.in_(ACTIVE_APPOINTMENT),
    )
    queued = 0
    for appointment in session.execute(stmt).scalars():
        patient = session.get(Patient, appointment.patient_id)
        clinic = session.get(Clinic, appointment.clinic_id)
        if patient is None or clinic is None:
            continue
        queued += _queue_for(session, appointment, patient, clinic, rulebook)
    return ScanReport(queued=queued, withdrawn=_withdraw_stale(session, now))


def _queue_for(
    session: Session,
    appointment: Appointment,
    patient: Patient,
    clinic: Clinic,
    rulebook: AftercareRulebook,
) -> int:
    start, tz = appointment.starts_at, clinic.timezone
    windows = precaution_windows(start, tz, rulebook)
    subject, body = messages.appointment_reminder(patient.full_name, clinic.name, start, tz)
    pre_subject, pre_body = messages.pre_visit_precautions(
        patient.full_name, clinic.name, start, tz, windows
    )
    drafts = [
        outbox.Draft(
            "appointment_reminder",
            _key("appointment_reminder", appointment),
            subject,
            body,
            start - REMINDER_BEFORE,
            appointment.id,
            start,
        ),
        outbox.Draft(
            "pre_visit_precautions",
            _key("pre_visit_precautions", appointment),
            pre_subject,
            pre_body,
            start - PRE_VISIT_BEFORE,
            appointment.id,
            start,
        ),
    ]
    before = (
        session.execute(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.in_([d.dedupe_key for d in drafts])
            )
        )
        .scalars()
        .all()
    )
    for draft in drafts:
        outbox.enqueue(session, patient, draft)
    return len(drafts) - len(before)


def _withdraw_stale(session: Session, now: datetime) -> int:
    """Skip queued reminders whose appointment was cancelled, moved or has passed."""
    stmt = (
        select(OutboxMessage, Appointment)
        .join(Appointment, Appointment.id == OutboxMessage.related_id)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.kind.in_(REMINDER_KINDS))
    )
    withdrawn = 0
    for message, appointment in session.execute(stmt).all():
        reason = None
        if appointment.status not in ACTIVE_APPOINTMENT:
            reason = f"appointment {appointment.status}"
        elif appointment.starts_at != message.related_at:
            reason = "appointment moved; a new reminder replaces this one"
        elif appointment.starts_at <= now:
            reason = "appointment already started"
        if reason:
            message.status, message.last_error = OutboxStatus.SKIPPED, reason
            withdrawn += 1
    return withdrawn


def enqueue_aftercare(
    session: Session, visit: CompletedVisit, rulebook: AftercareRulebook, now: datetime
) -> OutboxMessage | None:
    """Queue the aftercare email for a completed visit, to go out at once (idempotent)."""
    patient = session.get(Patient, visit.patient_id)
    clinic = session.get(Clinic, visit.clinic_id)
    if patient is None or clinic is None:
        return None
    windows = precaution_windows(visit.performed_at, clinic.timezone, rulebook)
    subject, body = messages.aftercare(
        patient.full_name, clinic.name, visit.performed_at, clinic.timezone, windows
    )
    draft = outbox.Draft(
        "aftercare", f"aftercare:{visit.id}", subject, body, now, visit.id, visit.performed_at
    )
    return outbox.enqueue(session, patient, draft)
