"""Helpers for the sites and measurements tests (plain functions, imported by those tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from mesoclinic.outcomes.models import Measurement, MeasurementSite


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
