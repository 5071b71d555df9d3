"""The dashboard's "Review the plan" panel: this clinic's non-responders on an active plan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mesoclinic.db import unit_of_work
from mesoclinic.formulary.models import Cocktail
from mesoclinic.outcomes import panels
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.visits.models import Visit
from outcomes.measure_data import density, make_site
from support import audit_entries

NOW = datetime.now(UTC)
FIRST = NOW - timedelta(days=220)  # first session ~7 months ago


def _course(world: Any, patient: Any, before: float, after: float, persona: str) -> None:
    """An active plan, six sessions a month apart, density before the first and 6 months on."""
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


def test_the_clinics_non_responder_is_listed_and_no_one_else(world):
    _course(world, world.patient_a, 140.0, 141.0, "clinician")  # +0.7 %: non-responder
    _course(world, world.other_patient_a, 140.0, 161.0, "clinician")  # +15 %: responder
    _course(world, world.patient_b, 140.0, 140.5, "clinician_b")  # other clinic's non-responder
    page = world.web("clinician").get("/").text
    assert "Review the plan: no measured response" in page
    assert f"/patients/{world.patient_a.id}/plan" in page
    assert "Show all" not in page  # one patient: nothing left out
    assert f"/patients/{world.other_patient_a.id}/" not in page
    assert world.patient_b.family_name not in page and str(world.patient_b.id) not in page
    entries = audit_entries(world.db, action="read", entity_type="responder_review")
    assert len(entries) == 1 and str(world.patient_a.id) in str(entries[0].detail)


def test_the_panel_is_not_shown_to_patients(world):
    _course(world, world.patient_a, 140.0, 141.0, "clinician")
    page = world.web("patient").get("/").text
    assert "Review the plan" not in page


def test_the_panel_shows_the_first_names_and_links_to_the_whole_list(world, monkeypatch):
    monkeypatch.setattr(panels, "PANEL_LIMIT", 1)
    _course(world, world.patient_a, 140.0, 141.0, "clinician")  # both non-responders
    _course(world, world.other_patient_a, 140.0, 140.5, "clinician")
    _course(world, world.patient_b, 140.0, 140.5, "clinician_b")  # another clinic's
    page = world.web("clinician").get("/").text
    shown = [
        p for p in (world.patient_a, world.other_patient_a) if f"/patients/{p.id}/plan" in page
    ]
    assert len(shown) == 1
    assert f'<a href="{panels.FULL_LIST}">Show all (2)</a>' in page
    full = world.web("clinician").get(panels.FULL_LIST)
    assert full.status_code == 200
    for p in (world.patient_a, world.other_patient_a):
        assert f"/patients/{p.id}/plan" in full.text and f"/patients/{p.id}/progress" in full.text
    assert str(world.patient_b.id) not in full.text
    entries = audit_entries(world.db, action="read", entity_type="responder_review")
    assert len(entries) == 2  # the dashboard's and the full list's
    assert str(world.other_patient_a.id) in str(entries[-1].detail)


def test_the_whole_list_is_for_the_clinics_clinicians_only(world):
    _course(world, world.patient_a, 140.0, 141.0, "clinician")
    for persona in ("patient", "reception"):
        r = world.web(persona).get(panels.FULL_LIST)
        assert r.status_code == 403, (persona, r.status_code)
        assert str(world.patient_a.id) not in r.text
    group_admin = world.web("admin").get(panels.FULL_LIST)  # belongs to no clinic
    assert group_admin.status_code == 200 and "per clinic" in group_admin.text
    assert str(world.patient_a.id) not in group_admin.text
    assert world.web("nurse").get(panels.FULL_LIST).status_code == 200
