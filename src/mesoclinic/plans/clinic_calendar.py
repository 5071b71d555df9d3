"""Each clinic's opening weekdays, hours, rooms and closure days (defaults: Mon-Sat 09-19)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.errors import Conflict, InvalidInput, NotFound
from mesoclinic.plans.models import ClinicClosure, ClinicSchedule
from mesoclinic.plans.schemas import ClinicCalendarUpdate, ClosureCreate
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.security.service import clinic_timezone


@dataclass(frozen=True)
class ClinicCalendar:
    """What scheduling needs to know about a clinic, as plain values."""

    clinic_id: uuid.UUID
    timezone: ZoneInfo
    opening_days: frozenset[int]
    opens_at: time
    closes_at: time
    rooms: tuple[str, ...]
    closures: frozenset[date]


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def target_clinic(session: Session, actor: Actor, clinic_id: uuid.UUID | None) -> uuid.UUID:
    """The actor's own clinic; a group admin (no clinic) must name one that exists."""
    target = actor.target_clinic(clinic_id, "this setting")
    if session.get(Clinic, target) is None:
        raise NotFound("Clinic not found", "clinic_id")
    return target


def schedule_row(session: Session, clinic_id: uuid.UUID) -> ClinicSchedule:
    """The clinic's schedule row, with the defaults when it was never edited (not stored)."""
    row = session.execute(
        select(ClinicSchedule).where(ClinicSchedule.clinic_id == clinic_id)
    ).scalar_one_or_none()
    return row or ClinicSchedule(
        clinic_id=clinic_id,
        opening_weekdays=[0, 1, 2, 3, 4, 5],
        opens_at_minute=9 * 60,
        closes_at_minute=19 * 60,
        rooms=["Room 1", "Room 2"],
    )


def closures(session: Session, clinic_id: uuid.UUID) -> list[ClinicClosure]:
    return list(
        session.execute(
            select(ClinicClosure)
            .where(ClinicClosure.clinic_id == clinic_id)
            .order_by(ClinicClosure.closed_on)
        ).scalars()
    )


def load(session: Session, clinic_id: uuid.UUID) -> ClinicCalendar:
    """The clinic's calendar as plain values for the pure scheduling functions."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("Clinic not found", "clinic_id")
    row = schedule_row(session, clinic_id)
    return ClinicCalendar(
        clinic_id=clinic_id,
        timezone=ZoneInfo(clinic_timezone(session, clinic.id)),
        opening_days=frozenset(row.opening_weekdays),
        opens_at=_clock(row.opens_at_minute),
        closes_at=_clock(row.closes_at_minute),
        rooms=tuple(row.rooms),
        closures=frozenset(c.closed_on for c in closures(session, clinic_id)),
    )


def update(
    session: Session, actor: Actor, clinic_id: uuid.UUID | None, data: ClinicCalendarUpdate
) -> ClinicCalendar:
    """Change opening days, hours and rooms of the actor's clinic."""
    actor.require(Permission.CLINIC_CALENDAR_WRITE)
    target = target_clinic(session, actor, clinic_id)
    opens, closes = (int(t[:2]) * 60 + int(t[3:]) for t in (data.opens_at, data.closes_at))
    if closes <= opens:
        raise InvalidInput("closes_at must be after opens_at", "closes_at")
    row = schedule_row(session, target)
    row.opening_weekdays = sorted(set(data.opening_weekdays))
    row.opens_at_minute, row.closes_at_minute = opens, closes
    row.rooms = list(data.rooms)
    row.updated_by = actor.username
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "clinic_calendar",
        row.id,
        clinic_id=target,
        detail=data.model_dump(),
    )
    return load(session, target)


def add_closure(
    session: Session, actor: Actor, clinic_id: uuid.UUID | None, data: ClosureCreate
) -> ClinicClosure:
    """Close the clinic for a day; existing plans keep their dates until rescheduled."""
    actor.require(Permission.CLINIC_CALENDAR_WRITE)
    target = target_clinic(session, actor, clinic_id)
    clash = session.execute(
        select(ClinicClosure).where(
            ClinicClosure.clinic_id == target, ClinicClosure.closed_on == data.closed_on
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(f"{data.closed_on.isoformat()} is already a closure day", "closed_on")
    closure = ClinicClosure(
        clinic_id=target, closed_on=data.closed_on, reason=data.reason, created_by=actor.username
    )
    session.add(closure)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "clinic_closure",
        closure.id,
        clinic_id=target,
        detail={"closed_on": data.closed_on.isoformat(), "reason": data.reason},
    )
    return closure


def remove_closure(session: Session, actor: Actor, closure_id: uuid.UUID) -> None:
    """Reopen a closure day (configuration, not a clinical record, so it is deleted)."""
    actor.require(Permission.CLINIC_CALENDAR_WRITE)
    closure = session.get(ClinicClosure, closure_id)
    if closure is None or not (actor.is_group_admin or closure.clinic_id == actor.clinic_id):
        raise NotFound("Closure not found")
    audit.record(
        session,
        actor,
        "delete",
        "clinic_closure",
        closure.id,
        clinic_id=closure.clinic_id,
        detail={"closed_on": closure.closed_on.isoformat()},
    )
    session.delete(closure)
    session.flush()
