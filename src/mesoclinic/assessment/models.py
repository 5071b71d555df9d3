"""Assessment records with the decision made on them, and clinicians' overrides."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from mesoclinic.assessment.rules import awaits_override
from mesoclinic.db import Base, RecordStatus, UUIDPrimaryKey, status_type, utcnow
from mesoclinic.patients.models import AuditColumns


class Assessment(UUIDPrimaryKey, AuditColumns, Base):
    """One hair-loss assessment: complaint, diagnosis, stage, tests, scalp, facts and decision."""

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_patient_when", "patient_id", "assessed_at"),
        Index("ix_assessments_awaiting", "awaiting_override", "clinic_id", "assessed_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
    assessed_by: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[RecordStatus] = mapped_column(
        status_type(RecordStatus, 20), default=RecordStatus.ACTIVE
    )
    complaint: Mapped[str | None] = mapped_column(Text)
    complaint_duration_months: Mapped[int | None] = mapped_column(Integer)
    diagnosis: Mapped[str] = mapped_column(String(32))
    icd10: Mapped[str] = mapped_column(String(10))
    snomed: Mapped[str] = mapped_column(String(20))
    staging_scale: Mapped[str | None] = mapped_column(String(20))
    staging_grade: Mapped[str | None] = mapped_column(String(12))
    salt_regions: Mapped[dict[str, float] | None] = mapped_column(JSON)
    salt_severity: Mapped[str | None] = mapped_column(String(4))
    pull_test_hairs: Mapped[int | None] = mapped_column(Integer)
    pull_test_positive: Mapped[bool | None]
    wash_test_count: Mapped[int | None] = mapped_column(Integer)
    comb_count: Mapped[int | None] = mapped_column(Integer)
    scalp_infection: Mapped[bool] = mapped_column(default=False)
    open_wound: Mapped[bool] = mapped_column(default=False)
    herpes_active: Mapped[bool] = mapped_column(default=False)
    scalp_inflammation: Mapped[bool] = mapped_column(default=False)
    scalp_notes: Mapped[str | None] = mapped_column(Text)
    # The medical-history facts as they stood (or as stated) when the decision was made.
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    candidacy: Mapped[str] = mapped_column(String(20))
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    rulebook_version: Mapped[str] = mapped_column(String(40))
    # Derived from `decision` (rules.awaits_override) whenever it is set; the dashboard's
    # "decisions awaiting you" panel reads it through ix_assessments_awaiting.
    awaiting_override: Mapped[bool] = mapped_column(default=False)
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)

    overrides: Mapped[list[DecisionOverride]] = relationship(
        back_populates="assessment", order_by="DecisionOverride.created_at"
    )

    @validates("decision")
    def _keep_awaiting_override(self, _field: str, decision: dict[str, Any]) -> dict[str, Any]:
        self.awaiting_override = awaits_override(decision)
        return decision

    @property
    def salt_score(self) -> float | None:
        return (
            float(self.staging_grade)
            if self.staging_scale == "salt" and self.staging_grade is not None
            else None
        )


class DecisionOverride(UUIDPrimaryKey, Base):
    """A clinician's written decision to go ahead despite a not-recommended or relative finding."""

    __tablename__ = "assessment_overrides"
    __table_args__ = (
        UniqueConstraint("assessment_id", "rule_id", name="uq_assessment_overrides_rule"),
    )

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))

    assessment: Mapped[Assessment] = relationship(back_populates="overrides")
