"""Transient ORM rows (never added to a session) for the pure mapping tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

__all__ = ["date"]

import mesoclinic.models_registry  # noqa: F401 - every table known, so relationships resolve
from mesoclinic.assessment.models import Assessment
from mesoclinic.outcomes.models import ClinicalImage, ImageBlob, Measurement, MeasurementSite
from mesoclinic.patients.models import (
    Allergy,
    Condition,
    Consent,
    ConsentForm,
    Medication,
    Patient,
    PregnancyStatus,
)

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CLINIC_ID = uuid.UUID("00000000-0000-4000-8000-00000000c11c")


def patient(**changes: object) -> Patient:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "clinic_id": CLINIC_ID,
        "record_number": "A-0001",
        "given_name": "Ann",
        "family_name": "Lee",
        "birth_date": date(1980, 1, 2),
        "sex": "female",
        "phone": "+44 20 1234 5678",
        "email": "ann@example.org",
        "city": "London",
        "status": "active",
        "updated_at": WHEN,
    }
    return Patient(**(fields | changes))


def allergy(patient_id: uuid.UUID, **changes: object) -> Allergy:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "substance": "Biotin",
        "reaction": "Rash",
        "severity": "moderate",
        "status": "active",
        "recorded_at": WHEN,
        "recorded_by": "dr.a",
    }
    return Allergy(**(fields | changes))


def medication(patient_id: uuid.UUID, **changes: object) -> Medication:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "name": "Aspirin",
        "dose": "75 mg daily",
        "category": "aspirin",
        "status": "active",
        "recorded_at": WHEN,
        "recorded_by": "dr.a",
        "started_on": date(2020, 1, 1),
        "stopped_on": None,
    }
    return Medication(**(fields | changes))


def history_condition(patient_id: uuid.UUID, **changes: object) -> Condition:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "name": "Type 2 diabetes",
        "kind": "diabetes",
        "status": "active",
        "recorded_at": WHEN,
        "recorded_by": "dr.a",
        "onset_on": date(2015, 6, 1),
    }
    return Condition(**(fields | changes))


def pregnancy(patient_id: uuid.UUID, value: str) -> PregnancyStatus:
    return PregnancyStatus(
        id=uuid.uuid4(), patient_id=patient_id, value=value, status="active", recorded_at=WHEN
    )


def consent(patient_id: uuid.UUID, **changes: object) -> Consent:
    form = ConsentForm(
        id=uuid.uuid4(), procedure="mesotherapy", version=2, title="Scalp mesotherapy", text="..."
    )
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "form": form,
        "form_id": form.id,
        "signed_at": WHEN,
        "signed_by": "Ann Lee",
        "signer_role": "patient",
        "withdrawn_at": None,
    }
    return Consent(**(fields | changes))


def assessment(patient_id: uuid.UUID, **changes: object) -> Assessment:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "clinic_id": CLINIC_ID,
        "assessed_at": WHEN,
        "assessed_by": "dr.a",
        "status": "active",
        "diagnosis": "androgenetic_alopecia",
        "icd10": "L64.9",
        "snomed": "87872006",
        "staging_scale": "norwood_hamilton",
        "staging_grade": "IIIa",
        "complaint": "Thinning at the crown for two years",
    }
    return Assessment(**(fields | changes))


def site(patient_id: uuid.UUID) -> MeasurementSite:
    return MeasurementSite(
        id=uuid.uuid4(),
        patient_id=patient_id,
        location="vertex",
        label="Vertex",
        description="2 cm behind the whorl",
        status="active",
    )


def image(patient_id: uuid.UUID, marked: MeasurementSite | None) -> ClinicalImage:
    blob = ImageBlob(
        sha256="a" * 64,
        upload_sha256="b" * 64,
        media_type="image/png",
        byte_size=1000,
        width=640,
        height=480,
    )
    return ClinicalImage(
        id=uuid.uuid4(),
        patient_id=patient_id,
        clinic_id=CLINIC_ID,
        kind="trichoscopy",
        view=None,
        taken_at=WHEN,
        blob=blob,
        site=marked,
        site_id=marked.id if marked else None,
        original_filename="vertex.png",
        created_by="nurse.a",
        status="active",
    )


def measurement(patient_id: uuid.UUID, **changes: object) -> Measurement:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "site": None,
        "site_id": None,
        "kind": "density_total",
        "value": 152.3,
        "unit": "/cm2",
        "measured_at": WHEN,
        "created_at": WHEN,
        "source": "manual",
        "recorded_by": "nurse.a",
        "status": "final",
    }
    return Measurement(**(fields | changes))
