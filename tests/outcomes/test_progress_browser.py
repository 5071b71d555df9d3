"""A real Chromium opens a patient's Progress tab: the chart, the before/after pair with its
overlay slider, and the PDF download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from image_support import give_photo_consent
from outcomes.test_progress_pages import _measure, _photos
from support import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.committed]
SHOTS = os.environ.get("MESOCLINIC_SCREENSHOTS")


def test_progress_tab_chart_pair_and_pdf(world, page):
    _measure(world, world.patient_a, [(200, 142.5), (100, 151.3), (10, 163.7)])
    give_photo_consent(world.db, world.patient_a.id, clinical_record=True)
    _photos(world)
    browser_login(page, world.users["clinician"].username)
    page.goto(f"/patients/{world.patient_a.id}/progress")
    assert page.locator("svg.chart[role=img]").count() >= 1
    assert page.locator(".ba-pair img").count() == 2
    page.locator(".ba-overlay input[type=range]").wait_for()  # the script added the slider
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "progress-tab.png"), full_page=True)
    # The fixture's browser context does not keep downloads: the page fetches the button's link
    # itself, with its own session, as the download would.
    got = page.evaluate(
        """async () => {
          const link = [...document.querySelectorAll("a")].find(
            (a) => a.textContent.includes("Download report (PDF)"));
          const r = await fetch(link.href);
          const head = new Uint8Array(await r.arrayBuffer()).slice(0, 4);
          return [r.status, r.headers.get("content-type"), String.fromCharCode(...head)];
        }"""
    )
    assert got == [200, "application/pdf", "%PDF"]
