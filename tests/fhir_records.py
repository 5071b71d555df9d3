"""A patient record with history and measurements, stored through the services (for the bulk
export, import and round-trip tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
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


def add_visits(factory: sessionmaker[Session], actor: Any, patient_ids: list[uuid.UUID]) -> None:
    """A cocktail, a product, two lots and a consent, then two visits per patient given by
    `actor` (a clinician): one from two lots with an adverse event, one from one lot."""
    from datetime import timedelta

    from mesoclinic.assessment.rulebook import get_rulebook
    from mesoclinic.formulary import service as formulary_service
    from mesoclinic.formulary import stock
    from mesoclinic.formulary.schemas import (
        CocktailCreate,
        CocktailLineIn,
        IngredientCreate,
        LotReceive,
        ProductCreate,
    )
    from mesoclinic.patients import consent as consent_service
    from mesoclinic.patients.schemas import ConsentCreate
    from mesoclinic.visits import service as visit_service
    from mesoclinic.visits.rulebook import get_visit_rulebook
    from mesoclinic.visits.schemas import VisitCreate

    books = visit_service.Rulebooks(visit=get_visit_rulebook(), screening=get_rulebook())
    now = datetime.now(UTC)
    with unit_of_work(factory) as s:
        biotin = formulary_service.create_ingredient(
            s, SETUP, IngredientCreate(name="biotin", category="vitamin")
        )
        cocktail = formulary_service.create_cocktail(
            s,
            SETUP,
            CocktailCreate(
                name="Biotin cocktail",
                total_volume_ml=5,
                lines=[CocktailLineIn(ingredient_id=biotin.id, concentration=0.5, unit="mg/mL")],
            ),
        )
        product = formulary_service.create_product(
            s,
            SETUP,
            ProductCreate(
                name="Bio-Hair 5 mL",
                manufacturer="Acme Pharma",
                presentation="5 x 5 mL vials",
                cocktail_id=cocktail.id,
            ),
        )
        lots = [
            stock.receive(
                s,
                SETUP,
                LotReceive(
                    product_id=product.id,
                    batch_number=batch,
                    expires_on=date.today() + timedelta(days=days),
                    quantity_ml=50,
                ),
                actor.clinic_id,
            )
            for batch, days in (("BH-101", 300), ("BH-102", 400))
        ]
        for patient_id in patient_ids:
            consent_service.sign(
                s,
                SETUP,
                patient_id,
                ConsentCreate(
                    procedure="mesotherapy",
                    signed_by="The patient",
                    signed_at=now - timedelta(days=60),
                ),
            )
            for days_ago, used, events in (
                (
                    30,
                    [(lots[0], 2.0), (lots[1], 1.0)],
                    [
                        {
                            "type": "bruising",
                            "severity": "mild",
                            "onset": "during",
                            "outcome": "resolved",
                        }
                    ],
                ),
                (2, [(lots[1], 2.5)], [{"type": "none"}]),
            ):
                visit_service.create(
                    s,
                    actor,
                    VisitCreate.model_validate(
                        {
                            "patient_id": patient_id,
                            "performed_at": (now - timedelta(days=days_ago)).replace(microsecond=0),
                            "cocktail_id": cocktail.id,
                            "lots": [{"lot_id": lot.id, "volume_ml": ml} for lot, ml in used],
                            "technique": "point_by_point",
                            "zones": ["vertex", "mid_scalp"],
                            "depth_mm": 1.5,
                            "points": 60,
                            "volume_per_point_ml": 0.05,
                            "total_volume_ml": sum(ml for _, ml in used),
                            "needle_gauge": 30,
                            "needle_length_mm": 4,
                            "adverse_events": events,
                            "notes": "Tolerated well",
                        }
                    ),
                    books,
                )


def visit_summary(session: Session, patient: Any) -> list[tuple[Any, ...]]:
    """A patient's sessions as a round trip must reproduce them: when, technique, zones, who
    gave them, the complications and each lot given (product, lot number, expiry, dose), from
    this clinic's visits or from the visits recorded elsewhere (imported)."""
    from sqlalchemy import select

    from mesoclinic.security.models import User
    from mesoclinic.visits.models import ExternalVisit, Visit

    out = []
    for visit in session.execute(select(Visit).where(Visit.patient_id == patient.id)).scalars():
        if str(visit.status) != "completed":
            continue
        user = session.get(User, visit.practitioner_id)
        out.append(
            (
                visit.performed_at,
                visit.technique,
                tuple(sorted(visit.zones)),
                (user.display_name if user else "") or (user.username if user else ""),
                tuple(
                    sorted(
                        e.type.replace("_", " ") for e in visit.adverse_events if e.type != "none"
                    )
                ),
                tuple(
                    sorted(
                        (
                            f"{u.lot.product.name} ({visit.cocktail.name})",
                            u.lot.batch_number,
                            u.lot.expires_on,
                            f"{u.volume_ml:g} mL",
                        )
                        for u in visit.lots_used
                    )
                ),
            )
        )
    external = session.execute(
        select(ExternalVisit).where(ExternalVisit.patient_id == patient.id)
    ).scalars()
    for row in external:
        if str(row.status) != "completed":
            continue
        out.append(
            (
                row.performed_at,
                row.technique,
                tuple(sorted(row.zones)),
                row.performer,
                tuple(sorted(row.complications)),
                tuple(
                    sorted(
                        (
                            a["product"],
                            a["lot_number"],
                            date.fromisoformat(a["expires_on"]) if a["expires_on"] else None,
                            a["dose"],
                        )
                        for a in row.administrations
                    )
                ),
            )
        )
    return sorted(out)


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


PROCEDURE_URL = "urn:uuid:5b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
GIVEN = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)  # an imported session


def _administration(url: str, lot: str, dose: float) -> dict[str, Any]:
    return {
        "fullUrl": url,
        "resource": {
            "resourceType": "MedicationAdministration",
            "identifier": [{"system": "https://referrer.example.org/ma", "value": lot}],
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "med",
                    "code": {"text": "Dermaheal HL"},
                    "batch": {"lotNumber": lot, "expirationDate": "2027-05-31"},
                }
            ],
            "status": "completed",
            "medicationReference": {"reference": "#med"},
            "subject": {"reference": referral()["entry"][0]["fullUrl"]},
            "partOf": [{"reference": PROCEDURE_URL}],
            "effectiveDateTime": GIVEN.isoformat(),
            "dosage": {"dose": {"value": dose, "unit": "mL", "system": codes.UCUM, "code": "mL"}},
        },
        "request": {"method": "POST", "url": "MedicationAdministration"},
    }


def visit_referral() -> dict[str, Any]:
    """The referral's patient plus a session given at the referring clinic, from two lots."""
    bundle = referral()
    bundle["entry"] = bundle["entry"][:1]
    bundle["entry"] += [
        {
            "fullUrl": PROCEDURE_URL,
            "resource": {
                "resourceType": "Procedure",
                "identifier": [{"system": "https://referrer.example.org/proc", "value": "P-9"}],
                "status": "completed",
                "code": {"text": "Scalp mesotherapy"},
                "subject": {"reference": bundle["entry"][0]["fullUrl"]},
                "performedDateTime": GIVEN.isoformat(),
                "performer": [{"actor": {"display": "Dr. Lena Brandt"}}],
                "bodySite": [
                    {"coding": [{"system": codes.SCALP_SITE, "code": "vertex"}]},
                    {"coding": [{"system": codes.SCALP_SITE, "code": "frontal"}]},
                ],
                "usedCode": [{"coding": [{"system": codes.TECHNIQUE, "code": "nappage"}]}],
                "outcome": {"text": "Completed; mild redness"},
                "complication": [{"text": "redness"}],
            },
            "request": {"method": "POST", "url": "Procedure"},
        },
        _administration("urn:uuid:7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "DH-2291", 2.0),
        _administration("urn:uuid:8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f1a", "DH-2304", 1.5),
    ]
    return bundle


FHIR_JSON = {"Content-Type": "application/fhir+json"}


def post_bundle(client: Any, bundle: dict[str, Any]) -> Any:
    """`POST /fhir` with a transaction Bundle."""
    return client.post("/fhir", json=bundle, headers=FHIR_JSON)


def row_counts(world: Any, *models: Any) -> dict[str, int]:
    """How many rows each table holds, by model name."""
    with world.db.factory() as s:
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in models
        }
