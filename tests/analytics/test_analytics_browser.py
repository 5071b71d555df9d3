"""A real Chromium builds two cohorts on the analytics page, reads the summary, compares them
and downloads a table as CSV."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analytics.cohort_data import add_patient, arrange
from mesoclinic.db import unit_of_work
from support import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.committed]
SHOTS = os.environ.get("MESOCLINIC_SCREENSHOTS")


def test_build_a_cohort_see_its_summary_compare_and_download_csv(world, page):
    with unit_of_work(world.db.factory) as s:
        k = arrange(s, world)
        for i in range(6):
            add_patient(
                s, k, values={0: 100.0 + i, 91: 109.0 + i * 1.5, 183: 112.0 + i}, sessions=3
            )
            add_patient(
                s, k, values={0: 100.0 + i, 91: 117.0 + i * 2, 183: 122.0 + i}, prp=True,
                sessions=3, lot="V-BAD", adverse=3,
            )  # fmt: skip
    browser_login(page, world.users["clinician"].username)
    page.goto("/analytics")
    for choice, name in (("no", "Alone"), ("yes", "With PRP")):
        if page.locator("#f-cohort").count():  # back from the saved cohort to the builder
            page.select_option("#f-cohort", "")
        page.select_option("#f-prp", choice)
        page.click("#show")
        page.wait_for_selector("#summary-table")
        assert ("never had PRP" if choice == "no" else "had PRP") in page.inner_text("#f-prp")
        page.fill("#f-name", name)
        page.click("#save-cohort button[type=submit]")
        page.wait_for_selector("#summary-table")
    assert "With PRP" in page.inner_text("#cohort-words")
    six = page.locator("#summary-table tbody tr", has_text="6 months")
    assert "6" in six.inner_text()
    page.select_option("#f-cohort", "")  # every treated patient, beside the comparison
    page.select_option("#f-prp", "")
    page.select_option("#f-compare_a", "Alone")
    page.select_option("#f-compare_b", "With PRP")
    page.click("#show")
    page.wait_for_selector("#caveat")
    assert "observational" in page.inner_text("#caveat"), page.inner_text("main")
    assert page.locator("#comparison-table tbody tr").count() == 4
    assert page.locator("#lots-table tr.flagged", has_text="V-BAD").count() == 1
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "analytics-compare.png"), full_page=True)
    got = page.evaluate(
        """async () => {
          const link = [...document.querySelectorAll("a")].find(
            (a) => a.getAttribute("href").startsWith("/analytics/export/summary.csv"));
          const r = await fetch(link.href);
          return [r.status, r.headers.get("content-type"), await r.text()];
        }"""
    )
    assert got[0] == 200 and got[1].startswith("text/csv")
    assert got[2].splitlines()[0].startswith("time_point,cohort,measured,n,mean_change")
