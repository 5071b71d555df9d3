"""API schemas for aftercare: precautions, declared events, conflicts, email preference, outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from mesoclinic.aftercare.models import OutboxStatus
from mesoclinic.db import RecordStatus
from mesoclinic.plans.schemas import ConflictRead
from mesoclinic.schemas_common import LongText, ReadSchema, Schema

MAX_EVENT_DAYS = 92


class PrecautionRead(BaseModel):
    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    instruction: str
    source: str
    relation: str


class VisitAftercareRead(BaseModel):
    visit_id: uuid.UUID
    performed_at: datetime
    precautions: list[PrecautionRead]


class DeclaredEventCreate(Schema):
    """An upcoming event the patient declares (inclusive clinic-local dates)."""

    kind: Literal["hair_colouring", "beach_holiday", "sauna", "other"]
    starts_on: date
    ends_on: date
    note: LongText | None = None

    @model_validator(mode="after")
    def _sensible_period(self) -> DeclaredEventCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must be on or after starts_on")
        # One day of slack for patients a time zone behind UTC.
        if self.ends_on < datetime.now(UTC).date() - timedelta(days=1):
            raise ValueError("ends_on is in the past: declare upcoming or ongoing events")
        if (self.ends_on - self.starts_on).days >= MAX_EVENT_DAYS:
            raise ValueError(f"an event may last at most {MAX_EVENT_DAYS} days")
        return self


class DeclaredEventRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    starts_on: date
    ends_on: date
    note: str | None
    status: RecordStatus
    created_at: datetime
    created_by: str


class ConflictsRead(BaseModel):
    starts_at: datetime
    warnings: list[ConflictRead]


class EmailPreference(Schema):
    email_opt_out: bool


class EmailPreferenceRead(BaseModel):
    patient_id: uuid.UUID
    email_opt_out: bool


class OutboxRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    to_address: str
    subject: str
    send_after: datetime
    status: OutboxStatus
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class OutboxPage(BaseModel):
    items: list[OutboxRead]
    total: int
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
