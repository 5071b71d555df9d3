"""The dashboard's "Review the plan" panel: this clinic's non-responders on an active plan."""

from __future__ import annotations

from outcomes.measure_data import measured_course
from support import audit_entries


def test_the_clinics_non_responder_is_listed_and_no_one_else(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")  # +0.7 %: non-responder
    measured_course(world, world.other_patient_a, 140.0, 161.0, "clinician")  # +15 %: responder
    measured_course(
        world, world.patient_b, 140.0, 140.5, "clinician_b"
    )  # other clinic's non-responder
    page = world.web("clinician").get("/").text
    assert "Review the plan: no measured response" in page
    assert f"/patients/{world.patient_a.id}/plan" in page
    assert f"/patients/{world.patient_a.id}/progress" in page
    assert f"/patients/{world.other_patient_a.id}/" not in page
    assert world.patient_b.family_name not in page and str(world.patient_b.id) not in page
    entries = audit_entries(world.db, action="read", entity_type="responder_review")
    assert len(entries) == 1 and str(world.patient_a.id) in str(entries[0].detail)


def test_the_panel_is_not_shown_to_patients(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    page = world.web("patient").get("/").text
    assert "Review the plan" not in page
