"""A real Chromium shows an imported session on the patient's Visits tab, marked as recorded
elsewhere (the screenshot is kept in MESOCLINIC_SCREENSHOTS when that folder is set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from fhir_records import visit_referral
from mesoclinic.patients.models import Patient
from support import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_the_visits_tab_marks_a_session_recorded_elsewhere(world, page, tmp_path):
    r = world.client("clinician").post(
        "/fhir", json=visit_referral(), headers={"Content-Type": "application/fhir+json"}
    )
    assert r.status_code == 200, r.text
    with world.db.factory() as s:
        patient = s.execute(select(Patient).where(Patient.family_name == "Okafor")).scalar_one()
    browser_login(page, world.users["clinician"].username)
    page.goto(f"/patients/{patient.id}/visits")
    section = page.locator("#external-visits")
    section.wait_for()
    text = section.inner_text()
    assert "Sessions recorded elsewhere (imported)" in text
    badge = section.locator(".badge").inner_text().replace("\xa0", " ")
    assert badge == "recorded elsewhere (imported)"
    assert "DH-2291" in text and "DH-2304" in text and "Dr. Lena Brandt" in text
    assert "No visits recorded yet." in page.locator("#visit-list").inner_text()
    folder = Path(os.environ.get("MESOCLINIC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    section.screenshot(path=str(folder / "imported-visit.png"))
    assert (folder / "imported-visit.png").stat().st_size > 1000
