"""A patient record with history and measurements, stored through the services (for the bulk
export, import and round-trip tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.db import unit_of_work
from mesoclinic.fhir import codes
from mesoclinic.outcomes import service as measurement_service
from mesoclinic.outcomes import sites
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.schemas import MeasurementCreate, SiteCreate
from mesoclinic.patients import history
from mesoclinic.patients.schemas import (
    AllergyCreate,
    ConditionCreate,
    MedicationCreate,
    PregnancyStatusCreate,
)
from mesoclinic.security.actor import cli_actor

SETUP = cli_actor("test-setup")


def add_record(
    factory: sessionmaker[Session], patient_id: uuid.UUID, *, density: float = 142.5
) -> None:
    """Two history conditions, an allergy, a medicine, a pregnancy status, a marked site and
    three measurements (one without a site, one rated)."""
    book = load_kinds()
    with unit_of_work(factory) as s:
        history.add(
            s,
            SETUP,
            patient_id,
            "conditions",
            ConditionCreate(name="Hypothyroidism", kind="thyroid", onset_on=date(2019, 5, 1)),
        )
        history.add(
            s,
            SETUP,
            patient_id,
            "conditions",
            ConditionCreate(name="Seasonal rhinitis", note="mild"),
        )
        history.add(
            s,
            SETUP,
            patient_id,
            "allergies",
            AllergyCreate(substance="Lidocaine", reaction="Hives", severity="moderate"),
        )
        history.add(
            s,
            SETUP,
            patient_id,
            "medications",
            MedicationCreate(name="Levothyroxine", dose="50 ug daily", started_on=date(2019, 6, 1)),
        )
        history.add(
            s, SETUP, patient_id, "pregnancy-statuses", PregnancyStatusCreate(value="not_pregnant")
        )
        site = sites.create(s, SETUP, patient_id, SiteCreate(location="vertex", label="Vertex"))
        measured = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        measurement_service.create(
            s,
            SETUP,
            patient_id,
            MeasurementCreate(
                kind="density_total",
                value=density,
                unit="/cm2",
                measured_at=measured,
                site_id=site.id,
                device_name="FotoFinder",
            ),
            book,
        )
        measurement_service.create(
            s,
            SETUP,
            patient_id,
            MeasurementCreate(
                kind="mean_shaft_diameter",
                value=61.0,
                unit="um",
                measured_at=measured,
                site_id=site.id,
            ),
            book,
        )


def record_summary(session: Session, patient: Any) -> dict[str, Any]:
    """What a round trip must reproduce, without ids, record numbers or times of entry."""
    from sqlalchemy import select

    from mesoclinic.outcomes.models import Measurement
    from mesoclinic.patients.models import Allergy, Condition, Medication, PregnancyStatus

    def rows(model: Any, *fields: str) -> list[tuple[Any, ...]]:
        found = session.execute(select(model).where(model.patient_id == patient.id)).scalars()
        return sorted(
            tuple(getattr(r, f) for f in fields) for r in found if str(r.status) == "active"
        )

    measurements = session.execute(
        select(Measurement).where(Measurement.patient_id == patient.id)
    ).scalars()
    return {
        "patient": (
            patient.given_name,
            patient.family_name,
            patient.birth_date,
            patient.sex,
            patient.phone,
            patient.email,
        ),
        "conditions": rows(Condition, "name", "kind", "onset_on", "note"),
        "allergies": rows(Allergy, "substance", "reaction", "severity", "note"),
        "medications": rows(Medication, "name", "dose", "category", "started_on", "stopped_on"),
        "pregnancy": rows(PregnancyStatus, "value", "note"),
        "measurements": sorted(
            (
                m.kind,
                m.value,
                m.unit,
                m.measured_at,
                m.site.location if m.site else None,
                m.site.label if m.site else None,
            )
            for m in measurements
            if m.superseded_at is None and str(m.status) != "entered-in-error"
        ),
    }


REFERRER = "https://referrer.example.org/fhir/sid/patient"
PATIENT_URL = "urn:uuid:6f1c3c2e-0c4b-4f8e-9d1e-3a5b7c9d1e2f"


def referral() -> dict[str, Any]:
    """A dermatologist's referral: Patient, Condition, Observation, AllergyIntolerance."""
    subject = {"reference": PATIENT_URL}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": PATIENT_URL,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": REFERRER, "value": "RX-20417"}],
                    "name": [{"use": "official", "family": "Okafor", "given": ["Adaeze"]}],
                    "gender": "female",
                    "birthDate": "1988-07-19",
                    "telecom": [{"system": "email", "value": "adaeze@example.org"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:0b6c2a8e-3f0e-4d7c-8d6e-5c1a2b3c4d5e",
                "resource": {
                    "resourceType": "Condition",
                    "identifier": [{"system": f"{REFERRER}/condition", "value": "C-1"}],
                    "code": {"text": "Iron deficiency"},
                    "subject": subject,
                    "onsetDateTime": "2025-11-02",
                },
                "request": {"method": "POST", "url": "Condition"},
            },
            {
                "fullUrl": "urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": codes.HAIR_METRIC, "code": "density_total"}]},
                    "subject": subject,
                    "effectiveDateTime": "2026-02-10T10:00:00Z",
                    "valueQuantity": {
                        "value": 128,
                        "unit": "/cm2",
                        "system": codes.UCUM,
                        "code": "/cm2",
                    },
                    "bodySite": {
                        "coding": [{"system": codes.SCALP_SITE, "code": "vertex"}],
                        "text": "Vertex",
                    },
                },
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "fullUrl": "urn:uuid:1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
                "resource": {
                    "resourceType": "AllergyIntolerance",
                    "code": {"text": "Penicillin"},
                    "patient": subject,
                    "reaction": [{"manifestation": [{"text": "Rash"}], "severity": "mild"}],
                },
                "request": {"method": "POST", "url": "AllergyIntolerance"},
            },
        ],
    }
