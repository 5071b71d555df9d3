"""API schemas for protocols, plans, plan sessions, appointments and the clinic calendar."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from mesoclinic.plans.models import AppointmentStatus, PlanSessionStatus, PlanStatus
from mesoclinic.schemas_common import LongText, ReadSchema, Reason, Schema, ShortText, UtcDatetime

RoomName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _on_slot(value: datetime) -> datetime:
    if value.second or value.microsecond or value.minute % 5:
        raise ValueError("must start on a 5-minute mark (e.g. 09:00, 09:05)")
    return value


def _clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError("must be a time like 09:00")
    return value


SlotStart = Annotated[UtcDatetime, AfterValidator(_on_slot)]
Duration = Annotated[int, Field(ge=5, le=240, multiple_of=5, description="minutes")]
Clock = Annotated[str, AfterValidator(_clock)]


class PhaseRead(BaseModel):
    name: str
    sessions: int
    interval_days: int
    window_before: int
    window_after: int
    prp_sessions: list[int]
    week_offsets: list[int] | None
    open_ended: bool


class ProtocolRead(BaseModel):
    code: str
    name: str
    source: str
    procedure: str
    cocktail: str | None = None
    session_count: int
    includes_prp: bool
    phases: list[PhaseRead]


class PlanCreate(Schema):
    protocol_code: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    start_date: date
    activate: bool = Field(default=True, description="false keeps the plan as a draft")
    confirmed_warnings: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list,
        max_length=20,
        description="rule ids of the planning warnings (allergy) the clinician confirms",
    )
    notes: LongText | None = None


class PlanTransition(Schema):
    reason: Reason | None = None


# A subclass so pages can treat every transition alike; stopping is the one that needs a reason.
class PlanStop(PlanTransition):
    reason: Reason


class SessionReschedule(Schema):
    new_date: date


class PlanSessionRead(ReadSchema):
    id: uuid.UUID
    plan_id: uuid.UUID
    sequence: int
    phase: str
    planned_date: date
    window_start: date
    window_end: date
    min_gap_days: int
    includes_prp: bool
    status: PlanSessionStatus
    appointment_id: uuid.UUID | None


class PlanRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    protocol_code: str
    protocol_name: str
    protocol_source: str
    start_date: date
    status: PlanStatus
    status_reason: str | None
    activated_at: datetime | None
    ended_at: datetime | None
    notes: str | None
    created_at: datetime
    created_by: str
    sessions: list[PlanSessionRead]


class AppointmentCreate(Schema):
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    room: RoomName
    starts_at: SlotStart
    duration_minutes: Duration = 30
    note: LongText | None = None


class SessionBooking(Schema):
    practitioner_id: uuid.UUID
    room: RoomName
    starts_at: SlotStart
    duration_minutes: Duration | None = Field(
        default=None, description="default 30, or 60 when the session includes PRP"
    )
    note: LongText | None = None


class AppointmentStatusUpdate(Schema):
    status: AppointmentStatus
    reason: Reason | None = None


# A precaution conflict (aftercare) as a booking warning: plans owns the shape an appointment
# carries, aftercare fills it, so plans needs nothing from aftercare.
class ConflictRead(BaseModel):
    rule_id: str
    severity: str
    reason: str
    source: str
    code: str
    event_kind: str
    event_starts_on: date | None
    event_ends_on: date | None
    suggested_date: date | None


class AppointmentRead(ReadSchema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    room: str
    starts_at: datetime
    duration_minutes: int
    status: AppointmentStatus
    plan_session_id: uuid.UUID | None
    note: str | None
    status_reason: str | None
    created_by: str
    # Filled on booking: declared events the session would put inside a precaution window.
    warnings: list[ConflictRead] = Field(default_factory=list)


class ClinicCalendarUpdate(Schema):
    opening_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        min_length=1, description="0 = Monday ... 6 = Sunday"
    )
    opens_at: Clock = "09:00"
    closes_at: Clock = "19:00"
    rooms: list[RoomName] = Field(min_length=1, max_length=20)

    @field_validator("rooms")
    @classmethod
    def _distinct_rooms(cls, rooms: list[str]) -> list[str]:
        if len({r.lower() for r in rooms}) != len(rooms):
            raise ValueError("room names must be different")
        if any("\n" in r for r in rooms):
            raise ValueError("room names are one line each")
        return rooms


class ClosureCreate(Schema):
    closed_on: date
    reason: ShortText


class ClosureRead(ReadSchema):
    id: uuid.UUID
    closed_on: date
    reason: str


class ClinicCalendarRead(BaseModel):
    clinic_id: uuid.UUID
    timezone: str
    opening_weekdays: list[int]
    opens_at: str
    closes_at: str
    rooms: list[str]
    closures: list[ClosureRead]
