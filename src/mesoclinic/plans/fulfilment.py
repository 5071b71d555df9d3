"""A visit fulfils a plan session: which one it may, and marking it and its appointment done.

The visits service calls these while recording a visit (plans sit below visits).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mesoclinic.errors import InvalidInput
from mesoclinic.plans import appointments
from mesoclinic.plans.models import (
    Appointment,
    AppointmentStatus,
    PlanSession,
    PlanSessionStatus,
    PlanStatus,
    TreatmentPlan,
)
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor

OPEN_SESSION_STATUSES = frozenset(
    {PlanSessionStatus.PLANNED, PlanSessionStatus.BOOKED, PlanSessionStatus.MISSED}
)


@dataclass(frozen=True)
class SessionWindow:
    """A plan session as a visit is checked against it: dates, least gap, appointment time."""

    sequence: int
    planned_date: date
    window_start: date
    window_end: date
    min_gap_days: int
    protocol_source: str
    appointment: Appointment | None


def session_window(
    session: Session, patient_id: uuid.UUID, plan_session_id: uuid.UUID | None
) -> SessionWindow | None:
    """The patient's plan session and its live appointment, read without locking (checks)."""
    if plan_session_id is None:
        return None
    item = session.get(PlanSession, plan_session_id)
    if item is None or item.plan.patient_id != patient_id:
        return None  # recording refuses it against plan_session_id
    return SessionWindow(
        item.sequence,
        item.planned_date,
        item.window_start,
        item.window_end,
        item.min_gap_days,
        item.plan.protocol_source,
        _live_appointment(session, item),
    )


def _live_appointment(session: Session, item: PlanSession) -> Appointment | None:
    appointment = session.get(Appointment, item.appointment_id) if item.appointment_id else None
    if appointment is None or appointment.status not in appointments.STATUS_CHANGES:
        return None
    return appointment


def plan_session_to_fulfil(
    session: Session, patient_id: uuid.UUID, plan_session_id: uuid.UUID | None
) -> PlanSession | None:
    """The patient's open plan session a visit fulfils; refuses others' and closed ones."""
    if plan_session_id is None:
        return None
    item = session.get(PlanSession, plan_session_id, with_for_update=True)
    plan = session.get(TreatmentPlan, item.plan_id) if item else None
    if item is None or plan is None or plan.patient_id != patient_id:
        raise InvalidInput("No such plan session for this patient", "plan_session_id")
    if plan.status != PlanStatus.ACTIVE:
        raise InvalidInput(
            f"The plan is {plan.status}; resume it before recording its sessions", "plan_session_id"
        )
    if item.status not in OPEN_SESSION_STATUSES:
        raise InvalidInput(f"Session {item.sequence} is already {item.status}", "plan_session_id")
    return item


def mark_fulfilled(
    session: Session,
    actor: Actor,
    item: PlanSession,
    visit_id: uuid.UUID,
    *,
    visit_day: date,
    zone: ZoneInfo,
) -> None:
    """The session is done, and so is its appointment when booked for the visit's day.

    An appointment booked for another day is never marked done silently: the visit check asked
    the practitioner to confirm, and the appointment stays booked (unlinked from the session, so
    cancelling it later does not reopen the session) for the reception to cancel or keep.
    """
    appointment = _live_appointment(session, item)
    left_booked = None
    if appointment is not None and appointment.starts_at.astimezone(zone).date() == visit_day:
        done = AppointmentStatus.DONE
        appointments.change_status(session, actor, appointment.id, done, "visit recorded")
    elif appointment is not None:
        left_booked = str(appointment.id)
        item.appointment_id = None
    item.status = PlanSessionStatus.DONE
    session.flush()
    audit.record(
        session,
        actor,
        "fulfil",
        "plan_session",
        item.id,
        patient_id=appointment.patient_id if appointment else None,
        detail={
            "visit": str(visit_id),
            "sequence": item.sequence,
            "appointment_left_booked": left_booked,
        },
    )
