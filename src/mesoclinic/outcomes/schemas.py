"""API schemas for marked scalp sites and measurements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mesoclinic.db import RecordStatus
from mesoclinic.outcomes.models import MeasurementSource, MeasurementStatus, SiteLocation
from mesoclinic.schemas_common import (
    LongText,
    ReadSchema,
    Schema,
    ShortText,
    UtcDatetimeNotInFuture,
)


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refuse it here so it is a 422, never a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Name = Annotated[ShortText, AfterValidator(_no_nul)]
Words = Annotated[LongText, AfterValidator(_no_nul)]
Reason = Annotated[str, Field(min_length=3, max_length=1000), AfterValidator(_no_nul)]
Code = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_no_nul)]
Unit = Annotated[str, Field(min_length=1, max_length=20), AfterValidator(_no_nul)]

LOCATION_LABELS: dict[SiteLocation, str] = {
    SiteLocation.VERTEX: "Vertex",
    SiteLocation.CROWN: "Crown",
    SiteLocation.MID_SCALP: "Mid-scalp",
    SiteLocation.FRONTAL_HAIRLINE: "Frontal hairline",
    SiteLocation.LEFT_TEMPORAL: "Left temporal",
    SiteLocation.RIGHT_TEMPORAL: "Right temporal",
    SiteLocation.OCCIPITAL: "Occipital",
    SiteLocation.OTHER: "Other",
}


class SiteCreate(Schema):
    """A marked spot; `label` defaults to the location's name and is required for `other`."""

    location: SiteLocation
    label: Name | None = Field(default=None, validate_default=True)
    description: Words = ""
    clipped: bool = False

    @field_validator("label")
    @classmethod
    def _label_for_other(cls, value: str | None, info: ValidationInfo) -> str | None:
        location = info.data.get("location")
        if value is None and location is SiteLocation.OTHER:
            raise ValueError("name the site when its location is 'other'")
        if value is None and location is not None:
            return LOCATION_LABELS[location]
        return value


class SiteUpdate(Schema):
    """Fields to change (only those sent are applied)."""

    location: SiteLocation | None = None
    label: Name | None = None
    description: Words | None = None
    clipped: bool | None = None


class SiteRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    location: SiteLocation
    label: str
    description: str
    clipped: bool
    status: RecordStatus
    void_reason: str | None
    created_by: str
    created_at: datetime


class VoidRequest(Schema):
    reason: Reason


class PlanReviewCreate(Schema):
    """Continue the active plan unchanged although its measured values meet the
    non-responder rule: why (e.g. "slow responder; photos show regrowth; patient wishes to
    continue")."""

    reason: Reason


class PlanReviewRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    plan_id: uuid.UUID
    decision: Literal["continue"]
    reason: str
    rule_id: str
    evidence_until: datetime
    reviewed_by: str
    reviewed_at: datetime


class MeasurementCreate(Schema):
    """A value entered by a person (`manual`) or read off a named device (`device`).

    Image-analysis values are stored by the analysis jobs, never through this schema.
    """

    kind: Code
    value: float
    unit: Unit
    measured_at: UtcDatetimeNotInFuture
    site_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    source: Literal["manual", "device"] = "manual"
    device_name: Name | None = Field(default=None, validate_default=True)
    rater: Name | None = None
    blinded: bool | None = None
    note: Words | None = None

    @field_validator("device_name")
    @classmethod
    def _device_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("source") == "device" and not value:
            raise ValueError("name the device the value was read from")
        return value

    @model_validator(mode="after")
    def _source_follows_device(self) -> MeasurementCreate:
        if self.device_name:
            self.source = "device"  # naming a device is saying where the value came from
        return self


class MeasurementCorrection(Schema):
    """The corrected value (and optionally unit, time, rater); the original stays beside it."""

    value: float
    unit: Unit | None = None
    measured_at: UtcDatetimeNotInFuture | None = None
    rater: Name | None = None
    blinded: bool | None = None
    reason: Reason


class MeasurementRead(ReadSchema):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    site_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    kind: str
    value: float
    unit: str
    measured_at: datetime
    source: MeasurementSource
    recorded_by: str
    device_name: str | None
    algorithm_version: str | None
    image_id: uuid.UUID | None
    analysis_id: uuid.UUID | None
    rater: str | None
    blinded: bool | None
    note: str | None
    status: MeasurementStatus
    corrects_id: uuid.UUID | None
    superseded_at: datetime | None
    void_reason: str | None
    created_at: datetime


class MeasurementKindRead(ReadSchema):
    code: str
    label: str
    unit: str
    min: float
    max: float
    integer: bool
    site: str
    needs_rater: bool
    higher_is_better: bool | None
    source: str


class KindBookRead(ReadSchema):
    version: str
    kinds: list[MeasurementKindRead]
