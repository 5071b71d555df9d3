"""A real Chromium records a visit end to end: live checks, confirm a warning, save, stock."""

from __future__ import annotations

import pytest

from mesoclinic.formulary.models import Lot
from support import browser_login

# the browser talks to a live server, which sees only committed data
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_clinician_records_a_visit_with_a_confirmed_warning(world, stocked, page):
    browser_login(page, world.users["clinician"].username)
    page.goto(f"/patients/{world.patient_a.id}/visits")
    page.select_option("#f-cocktail_id", str(stocked.vitamin_cocktail.id))
    page.select_option("#f-lot_id_0", str(stocked.vitamin_lot.id))
    page.fill("#f-volume_ml_0", "3.5")
    page.select_option("#f-technique", "nappage")
    page.fill("#f-depth_mm", "4.5")
    page.fill("#f-points", "35")
    page.fill("#f-volume_per_point_ml", "0.1")
    page.check("input[name=zones][value=vertex]")
    page.check("input[name=zones][value=mid_scalp]")
    page.fill("#f-pain_score", "3")
    page.fill("#f-total_volume_ml", "3.5")
    warning = page.locator('#visit-checks [data-rule="dose.depth.atypical"]')
    warning.wait_for()
    assert "outside the typical" in warning.inner_text()
    warning.locator("input[name=confirm]").check()
    page.locator("#visit-form:not([data-checking])").wait_for()
    page.click("#save-visit")
    page.wait_for_url(f"**/patients/{world.patient_a.id}/visits/*")
    assert "dose.depth.atypical" in page.locator("#visit-detail").inner_text()
    page.goto(f"/patients/{world.patient_a.id}/visits")
    assert "Standard vitamin cocktail" in page.locator("#visit-list").inner_text()
    page.goto(f"/stock/lots/{stocked.vitamin_lot.id}")
    assert page.locator("#lot-balance").inner_text() == "46.5 mL"
    with world.db.factory() as s:
        assert s.get(Lot, stocked.vitamin_lot.id).balance_ul == 46_500
