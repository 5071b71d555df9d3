"""Helpers for the sites and measurements tests (plain functions, imported by those tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from mesoclinic.db import unit_of_work
from mesoclinic.formulary.models import Cocktail
from mesoclinic.outcomes.models import Measurement, MeasurementSite
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.visits.models import Visit


def make_site(world: Any, patient: Any = None, persona: str = "clinician", **over: Any) -> Any:
    """Mark a site through the API and return its JSON."""
    patient = patient or world.patient_a
    body = {"location": "vertex", "description": "1 cm in front of the whorl; tattoo dot"}
    body.update(over)
    r = world.client(persona).post(f"/api/v1/patients/{patient.id}/sites", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def when(days_ago: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def density(site_id: str, value: float = 142.5, **over: Any) -> dict[str, Any]:
    """A valid total-density body at a site."""
    body: dict[str, Any] = {
        "kind": "density_total",
        "value": value,
        "unit": "/cm2",
        "site_id": site_id,
        "measured_at": when(),
    }
    body.update(over)
    return body


def record(
    world: Any, body: dict[str, Any], patient: Any = None, persona: str = "clinician"
) -> Any:
    patient = patient or world.patient_a
    r = world.client(persona).post(f"/api/v1/patients/{patient.id}/measurements", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def rows(db: Any, model: type = Measurement) -> int:
    with db.factory() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def site_rows(db: Any) -> int:
    return rows(db, MeasurementSite)


NOW = datetime.now(UTC)
FIRST = NOW - timedelta(days=220)  # first session ~7 months ago


def measured_course(world: Any, patient: Any, before: float, after: float, persona: str) -> Any:
    """An active plan, six sessions a month apart, density before the first and 6 months on;
    returns the measured site's JSON."""
    with unit_of_work(world.db.factory) as s:
        cocktail = Cocktail(name=f"Test cocktail {uuid.uuid4().hex[:8]}", total_volume_ml=5.0)
        s.add(cocktail)
        s.flush()
        s.add(
            TreatmentPlan(
                patient_id=patient.id,
                clinic_id=patient.clinic_id,
                protocol_code="test",
                protocol_name="Test protocol",
                start_date=FIRST.date(),
                status=PlanStatus.ACTIVE,
            )
        )
        for n in range(6):
            s.add(
                Visit(
                    clinic_id=patient.clinic_id,
                    patient_id=patient.id,
                    practitioner_id=world.users[persona].id,
                    performed_at=FIRST + timedelta(days=30 * n),
                    cocktail_id=cocktail.id,
                    technique="manual",
                    zones="vertex",
                    depth_mm=1.0,
                    points=40,
                    volume_per_point_ml=0.05,
                    total_volume_ml=2.0,
                    needle_gauge=32,
                    needle_length_mm=4.0,
                    status="completed",
                )
            )
    site = make_site(world, patient, persona=persona)
    for at, value in ((FIRST - timedelta(days=5), before), (FIRST + timedelta(days=190), after)):
        body = density(site["id"], value, measured_at=at.isoformat())
        r = world.client(persona).post(f"/api/v1/patients/{patient.id}/measurements", json=body)
        assert r.status_code == 201, r.text
    return site
