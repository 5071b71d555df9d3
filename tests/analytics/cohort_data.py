"""Known cohorts for the analytics tests: patients with a first session, density values at a
vertex site at baseline and follow-ups, PRP or not, a stopped plan or not, adverse events per
lot. Rows are added directly (the arrangement of a test, not the behaviour under test)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.assessment.models import Assessment
from mesoclinic.formulary.models import Cocktail, Lot, Product
from mesoclinic.outcomes.models import Measurement, MeasurementSite, MeasurementSource, SiteLocation
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot

T0 = datetime(2025, 1, 6, 10, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)  # every window of a T0 start has closed


@dataclass
class Kit:
    clinic_id: uuid.UUID
    practitioner_id: uuid.UUID
    cocktails: dict[str, Cocktail]
    lots: dict[str, Lot]
    count: int = 0


def kit(session: Session, clinic_id: uuid.UUID, practitioner_id: uuid.UUID) -> Kit:
    """Two cocktails, one product each, two lots of the first product."""
    cocktails = {
        name: Cocktail(name=f"{name} {uuid.uuid4().hex[:6]}", total_volume_ml=5.0)
        for name in ("Vitamin", "Dutasteride")
    }
    session.add_all(cocktails.values())
    session.flush()
    products = {
        name: Product(
            name=f"{name} vials {uuid.uuid4().hex[:6]}",
            manufacturer="Test Pharma",
            presentation="5 x 5 mL",
            cocktail_id=c.id,
        )
        for name, c in cocktails.items()
    }
    session.add_all(products.values())
    session.flush()
    lots = {
        batch: Lot(
            clinic_id=clinic_id,
            product_id=products[product].id,
            batch_number=batch,
            expires_on=date(2027, 1, 1),
            quantity_received_ul=100_000,
            balance_ul=100_000,
        )
        for batch, product in (("V-GOOD", "Vitamin"), ("V-BAD", "Vitamin"), ("D-1", "Dutasteride"))
    }
    session.add_all(lots.values())
    session.flush()
    return Kit(clinic_id, practitioner_id, {k: v for k, v in cocktails.items()}, lots)


def add_patient(
    session: Session,
    k: Kit,
    *,
    values: dict[int, float | None],
    cocktail: str = "Vitamin",
    prp: bool = False,
    stopped: bool = False,
    sex: str = "female",
    birth: date = date(1985, 5, 1),
    stage: tuple[str, str] | None = ("ludwig", "I"),
    diagnosis: str = "female_pattern_hair_loss",
    lot: str = "V-GOOD",
    sessions: int = 1,
    adverse: int = 0,
    start: datetime = T0,
    protocol: str = "vitamin_standard",
) -> Patient:
    """One treated patient: `values` maps day after the first session -> density at the vertex."""
    k.count += 1
    patient = Patient(
        clinic_id=k.clinic_id,
        record_number=f"T{k.count:05d}-{uuid.uuid4().hex[:4]}",
        given_name="Test",
        family_name=f"Patient{k.count}",
        birth_date=birth,
        sex=sex,
    )
    session.add(patient)
    session.flush()
    if stage is not None:
        session.add(
            Assessment(
                patient_id=patient.id,
                clinic_id=k.clinic_id,
                assessed_at=start - timedelta(days=7),
                diagnosis=diagnosis,
                icd10="L64",
                snomed="87872006",
                staging_scale=stage[0],
                staging_grade=stage[1],
                facts={},
                candidacy="recommended",
                decision={},
                rulebook_version="test",
            )
        )
    session.add(
        TreatmentPlan(
            patient_id=patient.id,
            clinic_id=k.clinic_id,
            protocol_code=protocol,
            protocol_name=protocol,
            start_date=start.date(),
            status=PlanStatus.STOPPED if stopped else PlanStatus.ACTIVE,
        )
    )
    for n in range(sessions):
        visit = Visit(
            clinic_id=k.clinic_id,
            patient_id=patient.id,
            practitioner_id=k.practitioner_id,
            performed_at=start + timedelta(days=14 * n),
            cocktail_id=k.cocktails[cocktail].id,
            technique="nappage",
            zones=["vertex"],
            depth_mm=1.5,
            points=100,
            volume_per_point_ml=0.03,
            total_volume_ml=3.0,
            needle_gauge=30,
            needle_length_mm=4,
            prp_given=prp and n == 0,
        )
        session.add(visit)
        session.flush()
        session.add(VisitLot(visit_id=visit.id, lot_id=k.lots[lot].id, volume_ul=3000))
        kind = "redness" if n < adverse else "none"
        session.add(
            AdverseEvent(visit_id=visit.id, type=kind, severity="mild" if n < adverse else None)
        )
    site = MeasurementSite(patient_id=patient.id, location=SiteLocation.VERTEX, label="Vertex")
    session.add(site)
    session.flush()
    for day, value in values.items():
        if value is None:
            continue
        session.add(
            Measurement(
                patient_id=patient.id,
                site_id=site.id,
                kind="density_total",
                value=value,
                unit="/cm2",
                measured_at=start + timedelta(days=day, hours=-2 if day == 0 else 0),
                source=MeasurementSource.MANUAL,
                recorded_by="test",
            )
        )
    session.flush()
    return patient


def arrange(session: Session, world: Any) -> Kit:
    return kit(session, world.clinic_a.id, world.users["clinician"].id)
