"""The dashboard's "Review the plan" panel: this clinic's non-responders on an active plan."""

from __future__ import annotations

from mesoclinic.outcomes import panels
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
    assert "Show all" not in page  # one patient: nothing left out
    assert f"/patients/{world.other_patient_a.id}/" not in page
    assert world.patient_b.family_name not in page and str(world.patient_b.id) not in page
    entries = audit_entries(world.db, action="read", entity_type="responder_review")
    assert len(entries) == 1 and str(world.patient_a.id) in str(entries[0].detail)


def test_the_panel_is_not_shown_to_patients(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    page = world.web("patient").get("/").text
    assert "Review the plan" not in page


def test_the_panel_shows_the_first_names_and_links_to_the_whole_list(world, monkeypatch):
    monkeypatch.setattr(panels, "PANEL_LIMIT", 1)
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")  # both non-responders
    measured_course(world, world.other_patient_a, 140.0, 140.5, "clinician")
    measured_course(world, world.patient_b, 140.0, 140.5, "clinician_b")  # another clinic's
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
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    for persona in ("patient", "reception"):
        r = world.web(persona).get(panels.FULL_LIST)
        assert r.status_code == 403, (persona, r.status_code)
        assert str(world.patient_a.id) not in r.text
    group_admin = world.web("admin").get(panels.FULL_LIST)  # belongs to no clinic
    assert group_admin.status_code == 200 and "per clinic" in group_admin.text
    assert str(world.patient_a.id) not in group_admin.text
    assert world.web("nurse").get(panels.FULL_LIST).status_code == 200
