"""A visit fulfils a plan session: which one it may, and marking it and its appointment done.

The visits service calls these while recording a visit (plans sit below visits).
"""

from __future__ import annotations

import uuid

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


def mark_fulfilled(session: Session, actor: Actor, item: PlanSession, visit_id: uuid.UUID) -> None:
    """The session is done, and so is the appointment booked for it."""
    appointment = session.get(Appointment, item.appointment_id) if item.appointment_id else None
    done = AppointmentStatus.DONE
    if appointment is not None and done in appointments.STATUS_CHANGES.get(appointment.status, ()):
        appointments.change_status(session, actor, appointment.id, done, "visit recorded")
    item.status = PlanSessionStatus.DONE
    session.flush()
    audit.record(
        session,
        actor,
        "fulfil",
        "plan_session",
        item.id,
        patient_id=appointment.patient_id if appointment else None,
        detail={"visit": str(visit_id), "sequence": item.sequence},
    )
