"""What a referral is read into: one plain record per importable resource, with the entry it
came from, and the problems that refuse a bundle. Pure data, no FHIR parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Issue:
    """One problem of the bundle: an OperationOutcome issue."""

    expression: str
    message: str
    code: str = "invalid"  # issue-type: invalid, required, value, not-supported, ...


class BundleRefused(ValueError):
    """The bundle cannot be imported; nothing may be stored."""

    def __init__(self, issues: list[Issue], status: int = 422) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.message}" for i in issues))
        self.issues = issues
        self.status = status


@dataclass(frozen=True)
class Source:
    """Where an item came from: its entry, and the keys that find it again next time."""

    index: int
    resource_type: str
    keys: tuple[str, ...]  # "identifier|<system>|<value>", "url|<fullUrl>"

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


@dataclass(frozen=True)
class PatientIn:
    source: Source
    ref_keys: tuple[str, ...]  # how the bundle's references name this patient
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
    record_numbers: tuple[tuple[str, str], ...]  # (identifier system, value) of mesoclinic clinics


@dataclass(frozen=True)
class ConditionIn:
    source: Source
    patient_ref: str
    name: str
    kind: str
    onset_on: date | None
    note: str | None


@dataclass(frozen=True)
class AllergyIn:
    source: Source
    patient_ref: str
    substance: str
    reaction: str | None
    severity: str
    note: str | None


@dataclass(frozen=True)
class MedicationIn:
    source: Source
    patient_ref: str
    name: str
    dose: str | None
    category: str
    started_on: date | None
    stopped_on: date | None
    note: str | None


@dataclass(frozen=True)
class PregnancyIn:
    source: Source
    patient_ref: str
    value: str
    recorded_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class MeasurementIn:
    source: Source
    patient_ref: str
    kind: str
    value: float
    unit: str
    measured_at: datetime
    device_name: str | None
    site_location: str | None
    site_label: str | None
    rater: str | None
    blinded: bool | None
    note: str | None


@dataclass(frozen=True)
class ProcedureIn:
    """A session given elsewhere (a Procedure): stored as an external visit, not a visit."""

    source: Source
    ref_keys: tuple[str, ...]  # how the bundle's administrations name this procedure
    patient_ref: str
    performed_at: datetime
    procedure: str
    technique: str | None
    zones: tuple[str, ...]
    performer: str | None
    outcome: str | None
    complications: tuple[str, ...]
    notes: str | None


@dataclass(frozen=True)
class AdministrationIn:
    """A lot given at that session (a MedicationAdministration partOf the Procedure)."""

    source: Source
    patient_ref: str
    procedure_ref: str
    product: str
    lot_number: str | None
    expires_on: date | None
    dose: str | None


@dataclass
class Parsed:
    patients: list[PatientIn] = field(default_factory=list)
    conditions: list[ConditionIn] = field(default_factory=list)
    allergies: list[AllergyIn] = field(default_factory=list)
    medications: list[MedicationIn] = field(default_factory=list)
    pregnancies: list[PregnancyIn] = field(default_factory=list)
    measurements: list[MeasurementIn] = field(default_factory=list)
    procedures: list[ProcedureIn] = field(default_factory=list)
    administrations: list[AdministrationIn] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(
            len(items)
            for items in (
                self.patients,
                self.conditions,
                self.allergies,
                self.medications,
                self.pregnancies,
                self.measurements,
                self.procedures,
                self.administrations,
            )
        )
