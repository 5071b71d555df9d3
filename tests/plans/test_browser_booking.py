"""In Chromium: reception books an appointment from a plan session and sees it on the calendar."""

from __future__ import annotations

from typing import Any

import pytest

from plans.plan_support import make_treatable, next_weekday
from support import browser_login

# the browser talks to a live server, which sees only committed data
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_reception_books_a_plan_session_and_sees_it_on_the_calendar(world: Any, page: Any) -> None:
    make_treatable(world, world.patient_a)
    start = next_weekday(1)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "meso-prp", "start_date": start.isoformat()},
    )
    assert r.status_code == 201, r.text
    browser_login(page, world.users["reception"].username)
    page.goto(f"/patients/{world.patient_a.id}/plan")
    page.locator('#plan-sessions tr[data-sequence="1"] a:has-text("Book")').click()
    page.wait_for_url("**/calendar?**")
    assert "Book session 1 for Ana Silva" in page.locator("#book h2").inner_text()
    page.select_option("#f-practitioner_id", label="Nurse (nurse)")
    page.select_option("#f-room", "Room 2")
    page.fill("#f-time", "10:30")
    page.click("#book button[type=submit]")
    page.wait_for_url(f"**/calendar?view=day&date={start.isoformat()}")
    block = page.locator("#calendar-day .cal-block").first
    assert "Ana Silva" in block.inner_text()
    assert "10:30–11:30" in block.inner_text()  # PRP session: 60 minutes by default
    page.goto(f"/patients/{world.patient_a.id}/plan")
    row = page.locator('#plan-sessions tr[data-sequence="1"]').inner_text()
    assert "booked" in row and "Room 2" in row


def test_reception_finds_the_patient_by_name_then_books(world: Any, page: Any) -> None:
    day = next_weekday(2)
    browser_login(page, world.users["reception"].username)
    page.goto(f"/calendar?view=day&date={day.isoformat()}")
    page.fill("#f-patient", "cost")  # inside one name only: Bruno Costa
    page.select_option("#f-practitioner_id", label="Nurse (nurse)")
    page.fill("#f-time", "11:00")
    page.click("#book button[type=submit]")
    page.wait_for_url(f"**/calendar?view=day&date={day.isoformat()}")
    block = page.locator("#calendar-day .cal-block").first
    assert "Bruno Costa" in block.inner_text() and "11:00–11:30" in block.inner_text()
