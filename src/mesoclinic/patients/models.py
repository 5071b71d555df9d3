"""The patient record: demographics, medical history and procedure-specific consent."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from mesoclinic.db import Base, RecordStatus, UUIDPrimaryKey, status_type, utcnow
from mesoclinic.patients.search_keys import digits, name_key, reversed_digits


class AuditColumns:
    """Who created and last changed a clinical row, and when."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")


def search_key(length: int) -> String:
    """A column searched by prefix ranges: bytewise order on both databases (COLLATE "C" on
    PostgreSQL, whose default collation may order "MC-0012" elsewhere than SQLite does)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Patient(UUIDPrimaryKey, AuditColumns, Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("clinic_id", "record_number", name="uq_patients_clinic_record"),
        Index("ix_patients_name", "family_name", "given_name"),
        # Search (patients.service.search): prefix range scans on normalised keys.
        Index("ix_patients_family_key", "family_key", "given_key"),
        Index("ix_patients_given_key", "given_key"),
        Index("ix_patients_phone_reversed", "phone_reversed"),
        Index("ix_patients_record_number", "record_number"),
        Index("ix_patients_clinic_birth_date", "clinic_id", "birth_date"),
        # A clinic's patient list in name order, and its (capped) count, from the index alone.
        Index("ix_patients_clinic_list", "clinic_id", "status", "family_key", "given_key", "id"),
        # A part of a name (3+ characters, `LIKE '%art%'`): pg_trgm GIN indexes, PostgreSQL only
        # (migration 0018; SQLite reads the clinic's list index above).
        *(
            Index(
                f"ix_patients_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                postgresql_with={"fastupdate": "off"},
            ).ddl_if(dialect="postgresql")
            for column in ("family_key", "given_key")
        ),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    record_number: Mapped[str] = mapped_column(search_key(20))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_digits: Mapped[str | None] = mapped_column(search_key(40), index=True)
    # Normalised copies kept by `_keep_search_keys` (search_keys.py says why).
    family_key: Mapped[str] = mapped_column(search_key(100), default="")
    given_key: Mapped[str] = mapped_column(search_key(100), default="")
    phone_reversed: Mapped[str | None] = mapped_column(search_key(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address_line: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    email_opt_out: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RecordStatus] = mapped_column(
        status_type(RecordStatus, 20), default=RecordStatus.ACTIVE
    )
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)

    allergies: Mapped[list[Allergy]] = relationship(
        back_populates="patient", order_by="Allergy.recorded_at"
    )
    medications: Mapped[list[Medication]] = relationship(
        back_populates="patient", order_by="Medication.recorded_at"
    )
    conditions: Mapped[list[Condition]] = relationship(
        back_populates="patient", order_by="Condition.recorded_at"
    )
    pregnancy_statuses: Mapped[list[PregnancyStatus]] = relationship(
        back_populates="patient", order_by="PregnancyStatus.recorded_at"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="patient", order_by="Consent.signed_at"
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @validates("given_name", "family_name", "phone")
    def _keep_search_keys(self, field: str, value: str | None) -> str | None:
        if field == "given_name":
            self.given_key = name_key(value)
        elif field == "family_name":
            self.family_key = name_key(value)
        else:
            self.phone_digits = digits(value)
            self.phone_reversed = reversed_digits(value)
        return value


class HistoryItem(UUIDPrimaryKey):
    """Columns shared by every medical-history entry; entries are voided, never deleted."""

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[RecordStatus] = mapped_column(
        status_type(RecordStatus, 20), default=RecordStatus.ACTIVE
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str | None] = mapped_column(Text)


class Allergy(HistoryItem, Base):
    __tablename__ = "allergies"

    substance: Mapped[str] = mapped_column(String(120))
    reaction: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(12), default="unknown")
    patient: Mapped[Patient] = relationship(back_populates="allergies")


class Medication(HistoryItem, Base):
    __tablename__ = "medications"

    name: Mapped[str] = mapped_column(String(120))
    dose: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(20), default="other")
    started_on: Mapped[date | None]
    stopped_on: Mapped[date | None]
    patient: Mapped[Patient] = relationship(back_populates="medications")


class Condition(HistoryItem, Base):
    __tablename__ = "conditions"

    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), default="other")
    onset_on: Mapped[date | None]
    patient: Mapped[Patient] = relationship(back_populates="conditions")


class PregnancyStatus(HistoryItem, Base):
    __tablename__ = "pregnancy_statuses"

    value: Mapped[str] = mapped_column(String(16))  # pregnant|breastfeeding|not_pregnant|unknown
    patient: Mapped[Patient] = relationship(back_populates="pregnancy_statuses")


class ConsentForm(UUIDPrimaryKey, Base):
    """A versioned consent text for one procedure; a new version supersedes older signatures."""

    __tablename__ = "consent_forms"
    __table_args__ = (UniqueConstraint("procedure", "version", name="uq_consent_forms_version"),)

    procedure: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(UUIDPrimaryKey, Base):
    __tablename__ = "consents"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_forms.id"))
    signed_at: Mapped[datetime]
    signed_by: Mapped[str] = mapped_column(String(120))
    signer_role: Mapped[str] = mapped_column(String(20), default="patient")
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="consents")
    form: Mapped[ConsentForm] = relationship(lazy="joined")
