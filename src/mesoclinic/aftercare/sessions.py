"""Where precaution windows come from: a patient's recent visits and upcoming appointments.

Reads the visits and plans areas' tables without permission checks or audit; callers have
checked scope and audit what they show.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.aftercare import scheduler
from mesoclinic.aftercare.models import OutboxMessage
from mesoclinic.aftercare.rulebook import AftercareRulebook
from mesoclinic.plans.models import Appointment
from mesoclinic.plans.service import upcoming_appointments
from mesoclinic.visits.models import Visit, VisitStatus

RECENT_VISITS = timedelta(days=10)  # longer than any "after" window of the default rulebook
AFTERCARE_EMAIL_WITHIN = timedelta(hours=24)  # older visits get no late aftercare email


def recent_visits(session: Session, patient_id: uuid.UUID, now: datetime) -> list[Visit]:
    """Completed visits of the last ten days, newest first."""
    stmt = (
        select(Visit)
        .where(
            Visit.patient_id == patient_id,
            Visit.status == VisitStatus.COMPLETED,
            Visit.performed_at >= now - RECENT_VISITS,
            Visit.performed_at <= now,
        )
        .order_by(Visit.performed_at.desc())
    )
    return list(session.execute(stmt).scalars())


def latest_visits(session: Session, patient_id: uuid.UUID, limit: int = 5) -> list[Visit]:
    """The patient's most recent completed visits (for their instruction sheets)."""
    stmt = (
        select(Visit)
        .where(Visit.patient_id == patient_id, Visit.status == VisitStatus.COMPLETED)
        .order_by(Visit.performed_at.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def next_appointments(
    session: Session, patient_id: uuid.UUID, now: datetime, limit: int = 10
) -> list[Appointment]:
    """Booked or arrived appointments from now on, soonest first."""
    return upcoming_appointments(session, patient_id, after=now)[:limit]


def queue_missing_aftercare(session: Session, now: datetime, rulebook: AftercareRulebook) -> int:
    """Queue the aftercare email for visits completed in the last day that have none yet."""
    has_email = select(OutboxMessage.id).where(
        OutboxMessage.kind == "aftercare", OutboxMessage.related_id == Visit.id
    )
    stmt = select(Visit).where(
        Visit.status == VisitStatus.COMPLETED,
        Visit.performed_at >= now - AFTERCARE_EMAIL_WITHIN,
        Visit.performed_at <= now,
        ~has_email.exists(),
    )
    queued = 0
    for visit in session.execute(stmt).scalars():
        if scheduler.enqueue_aftercare(session, visit, rulebook, now) is not None:
            queued += 1
    return queued
