"""Tables of the FHIR area: bulk export jobs (leased like the analysis jobs) and the links that
make a referral import idempotent (which local record a sender's resource became)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mesoclinic.db import Base, UUIDPrimaryKey, status_type, utcnow


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExportLevel(StrEnum):
    """Which kick-off endpoint asked: the whole system, one Group (clinic) or all patients."""

    SYSTEM = "system"
    GROUP = "group"
    PATIENT = "patient"


class BulkExportJob(UUIDPrimaryKey, Base):
    """One `$export` request: what to write, who asked, and how far the worker got.

    The NDJSON files live in the data folder under `fhir-exports/<id>/`; `output` lists them
    (type, file name, resource count) once the job is done. Only `requested_by_id` may poll,
    download or cancel.
    """

    __tablename__ = "fhir_export_jobs"
    __table_args__ = (Index("ix_fhir_export_jobs_claim", "status", "lease_until"),)

    level: Mapped[ExportLevel] = mapped_column(status_type(ExportLevel, 10))
    # None: every clinic (a group admin's system-level export).
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"))
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    request_url: Mapped[str] = mapped_column(Text)
    types: Mapped[list[str]] = mapped_column(JSON)
    since: Mapped[datetime | None]
    status: Mapped[ExportStatus] = mapped_column(
        status_type(ExportStatus, 12), default=ExportStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    leased_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    patients_total: Mapped[int | None] = mapped_column(Integer)
    patients_done: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    # The manifest's transactionTime: resources changed after it are not in this export.
    transaction_time: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportLink(UUIDPrimaryKey, Base):
    """A sender's resource (by identifier or fullUrl) and the local record it was stored as.

    Importing the same bundle again finds the link and updates that record instead of adding a
    second one. Links are per clinic: two clinics importing one referral get their own records.
    """

    __tablename__ = "fhir_import_links"
    __table_args__ = (
        UniqueConstraint("clinic_id", "resource_type", "source_key", name="uq_fhir_import_links"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    resource_type: Mapped[str] = mapped_column(String(40))
    source_key: Mapped[str] = mapped_column(String(400))  # "identifier|system|value" or fullUrl
    local_id: Mapped[uuid.UUID] = mapped_column(index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
