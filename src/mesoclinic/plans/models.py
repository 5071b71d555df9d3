"""Treatment plans and their dated sessions, appointments, and each clinic's opening days.

Session dates are clinic-local dates; appointment start times are stored in UTC. An appointment
occupies one `booking_slots` row per 5-minute slot for its practitioner and one for its room; the
unique constraint on those rows is what makes double booking impossible under concurrency on
both SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mesoclinic.db import Base, UUIDPrimaryKey, status_type, utcnow
from mesoclinic.patients.models import AuditColumns


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"


class PlanSessionStatus(StrEnum):
    PLANNED = "planned"
    BOOKED = "booked"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


# Statuses whose appointment no longer holds its practitioner and room.
RELEASED_STATUSES = frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW})
SLOT_MINUTES = 5


class ClinicSchedule(UUIDPrimaryKey, Base):
    """A clinic's opening weekdays, hours and rooms (defaults: Mon-Sat, 09:00-19:00)."""

    __tablename__ = "clinic_schedules"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), unique=True)
    opening_weekdays: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: [0, 1, 2, 3, 4, 5], server_default="[]"
    )
    opens_at_minute: Mapped[int] = mapped_column(default=9 * 60)
    closes_at_minute: Mapped[int] = mapped_column(default=19 * 60)
    rooms: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["Room 1", "Room 2"], server_default="[]"
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")


class ClinicClosure(UUIDPrimaryKey, Base):
    """A day the clinic is closed (bank holiday, training day); no session is planned on it."""

    __tablename__ = "clinic_closures"
    __table_args__ = (UniqueConstraint("clinic_id", "closed_on", name="uq_clinic_closures_day"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    closed_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")


class TreatmentPlan(UUIDPrimaryKey, AuditColumns, Base):
    """A patient's series of sessions generated from a protocol template."""

    __tablename__ = "treatment_plans"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    protocol_code: Mapped[str] = mapped_column(String(60))
    protocol_name: Mapped[str] = mapped_column(String(200))
    protocol_source: Mapped[str] = mapped_column(String(400), default="")
    start_date: Mapped[date]
    status: Mapped[PlanStatus] = mapped_column(
        status_type(PlanStatus, 12), default=PlanStatus.DRAFT
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)

    sessions: Mapped[list[PlanSession]] = relationship(
        back_populates="plan", order_by="PlanSession.sequence", cascade="all, delete-orphan"
    )


class PlanSession(UUIDPrimaryKey, Base):
    """One planned session of a plan: its clinic-local date and the window it may move in."""

    __tablename__ = "plan_sessions"
    __table_args__ = (UniqueConstraint("plan_id", "sequence", name="uq_plan_sessions_sequence"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plans.id"), index=True)
    sequence: Mapped[int]  # 1-based position in the plan
    phase: Mapped[str] = mapped_column(String(40))
    planned_date: Mapped[date]
    window_start: Mapped[date]
    window_end: Mapped[date]
    min_gap_days: Mapped[int] = mapped_column(default=0)  # least days after the previous one
    includes_prp: Mapped[bool] = mapped_column(default=False)
    status: Mapped[PlanSessionStatus] = mapped_column(
        status_type(PlanSessionStatus, 12), default=PlanSessionStatus.PLANNED
    )
    # The appointment booked for this session (same area; validated in the service).
    appointment_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    plan: Mapped[TreatmentPlan] = relationship(back_populates="sessions")


class Appointment(UUIDPrimaryKey, AuditColumns, Base):
    """A booked time with a practitioner in a room, optionally for a plan session."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_clinic_start", "clinic_id", "starts_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    room: Mapped[str] = mapped_column(String(60))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    status: Mapped[AppointmentStatus] = mapped_column(
        status_type(AppointmentStatus, 12), default=AppointmentStatus.BOOKED
    )
    plan_session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plan_sessions.id"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(Text)


class BookingSlot(Base):
    """One 5-minute slot held by an appointment for a practitioner or a room.

    `resource` is "practitioner:<user id>" or "room:<clinic id>:<room name>"; the primary key
    on (resource, slot_start) refuses a second booking of the same slot atomically.
    """

    __tablename__ = "booking_slots"

    resource: Mapped[str] = mapped_column(String(200), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
