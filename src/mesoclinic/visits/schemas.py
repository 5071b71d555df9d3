"""API schemas for visits and their safety checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AliasPath,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mesoclinic.findings import Finding
from mesoclinic.schemas_common import LongText, ReadSchema, Reason, Schema, UtcDatetime
from mesoclinic.visits import rules
from mesoclinic.visits.models import ZONES, VisitStatus

Technique = Literal["nappage", "point_by_point", "mesogun", "microneedling"]
Zone = Literal["frontal", "mid_scalp", "vertex", "left_temporal", "right_temporal", "occipital"]
AdverseType = Literal[
    "none",
    "pain",
    "headache",
    "bruising",
    "swelling",
    "redness",
    "itching",
    "allergic_reaction",
    "infection",
    "patchy_alopecia",
    "scarring",
]
Severity = Literal["mild", "moderate", "severe"]
Onset = Literal["during", "same_day", "later"]
Outcome = Literal["resolved", "resolving", "ongoing", "sequelae"]
Volume = Annotated[float, Field(gt=0, le=100)]


class LotUse(Schema):
    lot_id: uuid.UUID
    volume_ml: Volume


class AdverseEventIn(Schema):
    type: AdverseType
    severity: Severity | None = None
    onset: Onset | None = None
    outcome: Outcome | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _severity_for_real_events(self) -> AdverseEventIn:
        if self.type != "none" and (
            self.severity is None or self.onset is None or self.outcome is None
        ):
            raise ValueError("an adverse event needs severity, onset and outcome")
        return self


class VisitCreate(Schema):
    """One treatment session. Warnings are confirmed by listing their rule ids."""

    patient_id: uuid.UUID
    performed_at: UtcDatetime
    plan_session_id: uuid.UUID | None = None
    cocktail_id: uuid.UUID
    lots: list[LotUse] = Field(min_length=1, max_length=10)
    technique: Technique
    zones: list[Zone] = Field(min_length=1, max_length=6)
    depth_mm: Annotated[float, Field(gt=0, le=50)]
    points: Annotated[int, Field(ge=1, le=2000)]
    volume_per_point_ml: Annotated[float, Field(gt=0, le=10)]
    total_volume_ml: Volume
    needle_gauge: Annotated[int, Field(ge=10, le=40)]
    needle_length_mm: Annotated[float, Field(gt=0, le=50)]
    prp_given: bool = False
    prp_volume_ml: Volume | None = Field(default=None, validate_default=True)
    pain_score: Annotated[int, Field(ge=0, le=10)] | None = None
    hair_colour_last_date: date | None = None
    adverse_events: list[AdverseEventIn] = Field(min_length=1, max_length=20)
    notes: LongText | None = None
    confirmed_warnings: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=50
    )

    @field_validator("lots")
    @classmethod
    def _distinct_lots(cls, lots: list[LotUse]) -> list[LotUse]:
        if len({u.lot_id for u in lots}) != len(lots):
            raise ValueError("a lot is listed twice")
        return lots

    @field_validator("zones")
    @classmethod
    def _distinct_zones(cls, zones: list[str]) -> list[str]:
        if len(set(zones)) != len(zones):
            raise ValueError("a zone is listed twice")
        return zones

    @field_validator("prp_volume_ml")
    @classmethod
    def _prp_volume(cls, value: float | None, info: ValidationInfo) -> float | None:
        if info.data.get("prp_given") and value is None:
            raise ValueError("give the PRP volume when PRP was given")
        if not info.data.get("prp_given") and value is not None:
            raise ValueError("PRP volume given but PRP is not marked as given")
        return value

    @field_validator("hair_colour_last_date")
    @classmethod
    def _colour_before_visit(cls, value: date | None, info: ValidationInfo) -> date | None:
        performed = info.data.get("performed_at")
        if value and performed and value > performed.date():
            raise ValueError("cannot be after the visit")
        return value

    @field_validator("adverse_events")
    @classmethod
    def _none_alone(cls, events: list[AdverseEventIn]) -> list[AdverseEventIn]:
        if any(e.type == "none" for e in events) and len(events) > 1:
            raise ValueError("'none' cannot be combined with other events")
        return events


class CheckRead(Schema):
    rule_id: str
    severity: str
    reason: str
    source: str


class CheckResult(Schema):
    checks: list[CheckRead]
    blocking: bool
    needs_confirmation: list[str]

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> CheckResult:
        """The API answer for a pre-visit check: every finding, and what it asks of the user."""
        items = list(findings)
        return cls(
            checks=[CheckRead(**f.as_dict()) for f in items],
            blocking=bool(rules.blocking(items)),
            needs_confirmation=sorted(
                {f.rule_id for f in items if f.severity in rules.NEEDS_CONFIRMATION}
            ),
        )


class VisitVoid(Schema):
    reason: Reason


class VisitLotRead(ReadSchema):
    lot_id: uuid.UUID
    batch_number: str = Field(validation_alias=AliasPath("lot", "batch_number"))
    product_name: str = Field(validation_alias=AliasPath("lot", "product", "name"))
    volume_ml: float


class AdverseEventRead(ReadSchema):
    type: str
    severity: str | None
    onset: str | None
    outcome: str | None
    note: str | None


class VisitRead(ReadSchema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    performed_at: datetime
    plan_session_id: uuid.UUID | None
    cocktail_id: uuid.UUID
    cocktail_name: str = Field(validation_alias=AliasPath("cocktail", "name"))
    lots: list[VisitLotRead] = Field(validation_alias="lots_used")
    technique: str
    zones: list[str]
    depth_mm: float
    points: int
    volume_per_point_ml: float
    total_volume_ml: float
    needle_gauge: int
    needle_length_mm: float
    prp_given: bool
    prp_volume_ml: float | None
    pain_score: int | None
    hair_colour_last_date: date | None
    adverse_events: list[AdverseEventRead]
    confirmed_warnings: list[str]
    notes: str | None
    status: VisitStatus
    void_reason: str | None
    created_by: str


Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ExternalAdministration(Schema):
    """One lot given at a session elsewhere, as the sender wrote it (text, not this clinic's
    stock)."""

    product: Text200
    lot_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = (
        None
    )
    expires_on: date | None = None
    dose: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = None


class ExternalVisitCreate(Schema):
    """A session given elsewhere (an imported FHIR Procedure): what happened, as text."""

    performed_at: UtcDatetime
    procedure: Text200
    technique: Technique | None = None
    zones: list[Zone] = Field(default_factory=list, max_length=len(ZONES))
    performer: Text200 | None = None
    outcome: LongText | None = None
    complications: list[Text200] = Field(default_factory=list, max_length=20)
    administrations: list[ExternalAdministration] = Field(default_factory=list, max_length=20)
    notes: LongText | None = None

    @field_validator("zones")
    @classmethod
    def _distinct_zones(cls, zones: list[str]) -> list[str]:
        return list(dict.fromkeys(zones))
