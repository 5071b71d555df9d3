"""Patient-declared upcoming events and the outbox of patient emails."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mesoclinic.db import Base, RecordStatus, UUIDPrimaryKey, status_type, utcnow


class DeclaredEvent(UUIDPrimaryKey, Base):
    """Something the patient plans (hair colouring, beach holiday) that precautions may forbid."""

    __tablename__ = "declared_events"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # hair_colouring|beach_holiday|sauna|other
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RecordStatus] = mapped_column(
        status_type(RecordStatus, 20), default=RecordStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    voided_at: Mapped[datetime | None]
    voided_by: Mapped[str | None] = mapped_column(String(80))


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class OutboxMessage(UUIDPrimaryKey, Base):
    """One email to a patient; the worker sends it once (see docs/aftercare.md on crashes)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_send_after", "status", "send_after"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    # appointment_reminder | pre_visit_precautions | aftercare
    kind: Mapped[str] = mapped_column(String(30))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    related_id: Mapped[uuid.UUID | None]  # the appointment or visit the message is about
    related_at: Mapped[datetime | None]  # that appointment's start when queued
    to_address: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))
    send_after: Mapped[datetime]
    status: Mapped[OutboxStatus] = mapped_column(
        status_type(OutboxStatus, 12), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
