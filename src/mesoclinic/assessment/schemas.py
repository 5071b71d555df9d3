"""API schemas for assessments, their decision, overrides and the treatment gate."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from mesoclinic.assessment.staging import Diagnosis, Scale
from mesoclinic.db import RecordStatus
from mesoclinic.patients.schemas import ConditionKind
from mesoclinic.schemas_common import LongText, ReadSchema, Reason, Schema, UtcDatetimeNotInFuture

Percent = Annotated[float, Field(ge=0, le=100)]
Substance = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class SaltRegions(Schema):
    """Percentage of scalp hair lost in each SALT region (weights 40/18/18/24 %)."""

    vertex: Percent
    right: Percent
    left: Percent
    back: Percent


class Staging(Schema):
    """A stage on one scale; SALT takes `grade` (0-100) or the four `regions` instead."""

    scale: Scale
    grade: Annotated[str, StringConstraints(max_length=12)] | float | None = None
    regions: SaltRegions | None = None

    @model_validator(mode="after")
    def _grade_or_regions(self) -> Staging:
        if self.regions is not None and self.scale != "salt":
            raise ValueError("regions are only used with the SALT scale")
        if self.regions is not None and self.grade is not None:
            raise ValueError("give either grade or regions, not both")
        if self.regions is None and self.grade is None:
            raise ValueError("grade is required (or regions for SALT)")
        return self


class AssessmentCreate(Schema):
    """One assessment; history facts left out (None) are taken from the medical history."""

    assessed_at: UtcDatetimeNotInFuture | None = None
    complaint: LongText | None = None
    complaint_duration_months: Annotated[int, Field(ge=0, le=1200)] | None = None
    diagnosis: Diagnosis
    staging: Staging | None = None
    pull_test_hairs: Annotated[int, Field(ge=0, le=100)] | None = None
    wash_test_count: Annotated[int, Field(ge=0, le=5000)] | None = None
    comb_count: Annotated[int, Field(ge=0, le=1000)] | None = None
    scalp_infection: bool = False
    open_wound: bool = False
    herpes_active: bool = False
    scalp_inflammation: bool = False
    scalp_notes: LongText | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    anticoagulants: bool | None = None
    recent_bleeding_risk_supplements: bool | None = None
    may_become_pregnant: bool | None = None
    allergies: list[Substance] | None = Field(default=None, max_length=50)
    conditions: list[ConditionKind] | None = Field(default=None, max_length=20)


class FindingRead(ReadSchema):
    rule_id: str
    severity: str
    reason: str
    source: str


class OverrideRead(ReadSchema):
    id: uuid.UUID
    rule_id: str
    severity: str
    reason: str
    created_at: datetime
    created_by: str


class DecisionRead(ReadSchema):
    candidacy: str
    candidacy_findings: list[FindingRead]
    contraindications: list[FindingRead]
    rulebook_version: str
    blocked: bool
    overrides: list[OverrideRead] = []
    needs_override: list[str] = Field(
        default=[], description="rule ids that block treatment until a clinician overrides them"
    )


class AssessmentRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    assessed_at: datetime
    assessed_by: str
    status: RecordStatus
    complaint: str | None
    complaint_duration_months: int | None
    diagnosis: str
    icd10: str
    snomed: str
    staging_scale: str | None
    staging_grade: str | None
    salt_regions: dict[str, float] | None
    salt_score: float | None
    salt_severity: str | None
    pull_test_hairs: int | None
    pull_test_positive: bool | None
    wash_test_count: int | None
    comb_count: int | None
    scalp_infection: bool
    open_wound: bool
    herpes_active: bool
    scalp_inflammation: bool
    scalp_notes: str | None
    facts: dict[str, Any]
    decision: DecisionRead
    voided_at: datetime | None
    void_reason: str | None


class PreviewRead(ReadSchema):
    """The decision a form would get, with nothing stored."""

    decision: DecisionRead
    icd10: str
    snomed: str
    staging_grade: str | None
    salt_severity: str | None


class OverrideCreate(Schema):
    rule_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000)]


class AssessmentVoid(Schema):
    reason: Reason


class GateRead(ReadSchema):
    allowed: bool
    procedure: str
    findings: list[FindingRead]
