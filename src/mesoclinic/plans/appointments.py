"""An appointment's life after booking: read it, change its status, release it with its plan.

Below both `booking` and the plan service: a plan that ends cancels its booked appointments
here, and booking builds on the plan service, so neither needs the other.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mesoclinic.errors import InvalidTransition
from mesoclinic.patients import service as patient_service
from mesoclinic.plans.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingSlot,
    PlanSession,
    PlanSessionStatus,
)
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

STATUS_CHANGES: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.ARRIVED,
            AppointmentStatus.DONE,
            AppointmentStatus.NO_SHOW,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.ARRIVED: frozenset({AppointmentStatus.DONE, AppointmentStatus.CANCELLED}),
}
# What a plan session becomes when its appointment reaches a status.
SESSION_STATUS_AFTER = {
    AppointmentStatus.DONE: PlanSessionStatus.DONE,
    AppointmentStatus.NO_SHOW: PlanSessionStatus.MISSED,
    AppointmentStatus.CANCELLED: PlanSessionStatus.PLANNED,
}


def load_appointment(
    session: Session,
    actor: Actor,
    appointment_id: uuid.UUID,
    permission: Permission = Permission.APPOINTMENT_READ,
) -> Appointment:
    return patient_service.load_owned(
        session, actor, Appointment, appointment_id, permission, "Appointment"
    )


def get(session: Session, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    """Read one appointment, auditing the read."""
    appointment = load_appointment(session, actor, appointment_id)
    audit.record(
        session,
        actor,
        "read",
        "appointment",
        appointment.id,
        patient_id=appointment.patient_id,
        clinic_id=appointment.clinic_id,
    )
    return appointment


def list_for(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Appointment]:
    """Every appointment of the patient, soonest first, auditing the read."""
    patient = patient_service.load(session, actor, patient_id, Permission.APPOINTMENT_READ)
    rows = list(
        session.execute(
            select(Appointment)
            .where(Appointment.patient_id == patient.id)
            .order_by(Appointment.starts_at, Appointment.id)
        ).scalars()
    )
    audit.record(
        session,
        actor,
        "read",
        "appointment",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"count": len(rows)},
    )
    return rows


def change_status(
    session: Session,
    actor: Actor,
    appointment_id: uuid.UUID,
    status: str,
    reason: str | None = None,
) -> Appointment:
    """Arrived, done, no-show or cancelled; cancelled and no-show free the slot."""
    appointment = load_appointment(session, actor, appointment_id, Permission.APPOINTMENT_WRITE)
    if status not in STATUS_CHANGES.get(appointment.status, frozenset()):
        raise InvalidTransition(
            f"A {appointment.status} appointment cannot become {status}", "status"
        )
    previous = appointment.status
    _set_status(session, appointment, AppointmentStatus(status), reason, actor.username)
    audit.record(
        session,
        actor,
        "status",
        "appointment",
        appointment.id,
        patient_id=appointment.patient_id,
        clinic_id=appointment.clinic_id,
        detail={"from": previous, "to": status, "reason": reason},
    )
    return appointment


def _set_status(
    session: Session,
    appointment: Appointment,
    status: AppointmentStatus,
    reason: str | None,
    username: str,
) -> None:
    appointment.status, appointment.status_reason = status, reason
    appointment.updated_by = username
    if status in RELEASED_STATUSES:
        session.execute(delete(BookingSlot).where(BookingSlot.appointment_id == appointment.id))
    if appointment.plan_session_id and status in SESSION_STATUS_AFTER:
        item = session.get(PlanSession, appointment.plan_session_id)
        if item is not None and item.appointment_id == appointment.id:
            item.status = SESSION_STATUS_AFTER[status]
            if status == AppointmentStatus.CANCELLED:
                item.appointment_id = None
    session.flush()


def release_for_plan(session: Session, actor: Actor, appointment_id: uuid.UUID, why: str) -> None:
    """Cancel a still-booked appointment because its plan ended."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        return
    _set_status(session, appointment, AppointmentStatus.CANCELLED, why, actor.username)
    audit.record(
        session,
        actor,
        "status",
        "appointment",
        appointment.id,
        patient_id=appointment.patient_id,
        clinic_id=appointment.clinic_id,
        detail={"from": "booked", "to": "cancelled", "reason": why},
    )
