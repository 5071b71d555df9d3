"""API schemas for the patient record (field names follow FHIR Patient)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, EmailStr, Field, StringConstraints, model_validator

from mesoclinic.db import RecordStatus
from mesoclinic.schemas_common import (
    DateNotInFuture,
    LongText,
    ReadSchema,
    Reason,
    Schema,
    ShortText,
    UtcDatetimeNotInFuture,
)

Sex = Literal["female", "male", "other", "unknown"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,25}$")


def _phone(value: str) -> str:
    if not _PHONE.match(value) or sum(c.isdigit() for c in value) < 6:
        raise ValueError("must be a phone number: digits, spaces, + ( ) - . /")
    return value


def _birth_date(value: date) -> date:
    if value.year < 1900:
        raise ValueError("must be after 1900")
    return value


Phone = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_phone)]
BirthDate = Annotated[DateNotInFuture, AfterValidator(_birth_date)]


def _country(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("must be a two-letter country code, like GB or FR")
    return value


Country = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_country)
]


class PatientCreate(Schema):
    given_name: Name
    family_name: Name
    birth_date: BirthDate
    sex: Sex
    phone: Phone | None = None
    email: EmailStr | None = None
    address_line: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Country | None = None
    email_opt_out: bool = False
    notes: LongText | None = None


class PatientUpdate(Schema):
    """Every field optional; only the fields sent are changed."""

    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: BirthDate | None = None
    sex: Sex | None = None
    phone: Phone | None = None
    email: EmailStr | None = None
    address_line: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Country | None = None
    email_opt_out: bool | None = None
    notes: LongText | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> PatientUpdate:
        for name in ("given_name", "family_name", "birth_date", "sex"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed")
        if "email_opt_out" in self.model_fields_set and self.email_opt_out is None:
            raise ValueError("email_opt_out must be true or false")
        return self


class PatientRead(ReadSchema):
    id: uuid.UUID
    record_number: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    phone: str | None
    email: str | None
    address_line: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    email_opt_out: bool
    notes: str | None
    status: RecordStatus
    clinic_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class PatientVoid(Schema):
    reason: Reason


AllergySeverity = Literal["mild", "moderate", "severe", "unknown"]
MedicationCategory = Literal[
    "anticoagulant",
    "antiplatelet",
    "aspirin",
    "nsaid",
    "vitamin_e",
    "fish_oil",
    "ginkgo",
    "antiandrogen",
    "isotretinoin",
    "other",
]
ConditionKind = Literal[
    "bleeding_disorder",
    "diabetes",
    "heart_failure",
    "kidney_disease",
    "cancer",
    "autoimmune",
    "keloid_tendency",
    "herpes",
    "thyroid",
    "iron_deficiency",
    "other",
]
PregnancyValue = Literal["pregnant", "breastfeeding", "not_pregnant", "unknown"]


class AllergyCreate(Schema):
    substance: ShortText
    reaction: Annotated[str, StringConstraints(max_length=200)] | None = None
    severity: AllergySeverity = "unknown"
    note: LongText | None = None


class MedicationCreate(Schema):
    name: ShortText
    dose: Annotated[str, StringConstraints(max_length=80)] | None = None
    category: MedicationCategory = "other"
    started_on: DateNotInFuture | None = None
    stopped_on: date | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> MedicationCreate:
        if self.started_on and self.stopped_on and self.stopped_on < self.started_on:
            raise ValueError("stopped_on is before started_on")
        return self


class ConditionCreate(Schema):
    name: ShortText
    kind: ConditionKind = "other"
    onset_on: DateNotInFuture | None = None
    note: LongText | None = None


class PregnancyStatusCreate(Schema):
    value: PregnancyValue
    note: LongText | None = None


class HistoryRead(ReadSchema):
    id: uuid.UUID
    status: RecordStatus
    recorded_at: datetime
    recorded_by: str
    note: str | None


class AllergyRead(HistoryRead):
    substance: str
    reaction: str | None
    severity: str


class MedicationRead(HistoryRead):
    name: str
    dose: str | None
    category: str
    started_on: date | None
    stopped_on: date | None


class ConditionRead(HistoryRead):
    name: str
    kind: str
    onset_on: date | None


class PregnancyStatusRead(HistoryRead):
    value: str


class MedicalHistoryRead(ReadSchema):
    allergies: list[AllergyRead]
    medications: list[MedicationRead]
    conditions: list[ConditionRead]
    pregnancy_statuses: list[PregnancyStatusRead]


class ConsentFormRead(ReadSchema):
    id: uuid.UUID
    procedure: str
    version: int
    title: str
    text: str


class ConsentCreate(Schema):
    procedure: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    signed_by: ShortText
    signed_at: UtcDatetimeNotInFuture
    signer_role: Literal["patient", "guardian", "representative"] = "patient"


class ConsentWithdraw(Schema):
    reason: Reason


class ConsentRead(ReadSchema):
    id: uuid.UUID
    procedure: str
    version: int
    title: str
    signed_at: datetime
    signed_by: str
    signer_role: str
    recorded_by: str
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    current: bool = Field(description="Signed, not withdrawn, and of the newest form version")
