"""A real browser fills the assessment form, watches the decision panel update, then saves."""

from __future__ import annotations

from typing import Any

import pytest

from support import browser_login

# the browser talks to a live server, which sees only committed data
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_decision_panel_updates_as_the_form_is_filled_then_saves(world: Any, page: Any) -> None:
    browser_login(page, world.users["clinician"].username)
    pid = world.other_patient_a.id
    page.goto(f"/patients/{pid}/assessments")
    page.click("text=New assessment")
    panel = page.locator("#decision-panel")
    assert "Fill in the diagnosis" in panel.inner_text()
    page.select_option("#f-diagnosis", "androgenetic_alopecia")
    page.select_option("#f-staging_scale", "norwood_hamilton")
    page.fill("#f-staging_grade", "III")
    page.locator("[data-testid=candidacy]", has_text="Recommended").wait_for()
    page.fill("#f-staging_grade", "VI")
    page.locator("[data-testid=candidacy]", has_text="Not recommended").wait_for()
    assert "candidacy.advanced_male_pattern" in panel.inner_text()
    page.select_option("#f-anticoagulants", "yes")
    page.locator("#decision-panel", has_text="contra.anticoagulants").wait_for()
    page.click("text=Save assessment")
    page.wait_for_url(f"**/patients/{pid}/assessments/*")
    assert "Assessment saved: not recommended" in page.content()
    page.fill("#f-reason", "Understands limited benefit; wants to keep the vertex.")
    page.click("text=Record override")
    page.wait_for_url(f"**/patients/{pid}/assessments/*")
    assert "overridden by clinician.user" in page.content()
