"""Treatment plan use cases: create from a protocol, change status, reschedule, read.

Services flush, never commit. `upcoming_appointments` and `plan_sessions_for` are the read
functions other areas (aftercare, visits) build on; they do no permission check or audit, so
their callers must have checked scope and audit what they show.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.plans.models import Appointment, PlanSession, TreatmentPlan


def upcoming_appointments(session: Session, patient_id: uuid.UUID, *,
                          after: datetime) -> list[Appointment]:
    """The patient's booked or arrived appointments starting at or after `after`, soonest first."""
    stmt = (select(Appointment)
            .where(Appointment.patient_id == patient_id, Appointment.starts_at >= after,
                   Appointment.status.in_(("booked", "arrived")))
            .order_by(Appointment.starts_at))
    return list(session.execute(stmt).scalars())


def plan_sessions_for(session: Session, patient_id: uuid.UUID) -> list[PlanSession]:
    """Sessions of the patient's active or paused plans, by date."""
    stmt = (select(PlanSession).join(TreatmentPlan)
            .where(TreatmentPlan.patient_id == patient_id,
                   TreatmentPlan.status.in_(("active", "paused")))
            .order_by(PlanSession.planned_date, PlanSession.sequence))
    return list(session.execute(stmt).scalars())
