"""A real browser: the patient declares a planned event in the portal and turns emails off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support import browser_login

# the browser talks to a live server, which sees only committed data
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_patient_declares_event_and_opts_out_in_the_portal(
    world: Any, page: Any, add_appointment: Any
) -> None:
    starts = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=12)
    add_appointment(world.patient_a, starts)
    colour_day = (starts + timedelta(days=2)).date().isoformat()
    browser_login(page, world.users["patient"].username)
    page.click("text=Aftercare")
    page.wait_for_url("**/aftercare")
    assert "No planned events declared." in page.content()
    page.select_option("#f-kind", "hair_colouring")
    page.fill("#f-starts_on", colour_day)
    page.fill("#f-ends_on", colour_day)
    page.fill("#f-note", "Highlights at the salon")
    page.click("text=Add event")
    page.wait_for_url("**/aftercare")
    assert "Event added." in page.content()
    assert "Highlights at the salon" in page.content()
    # The booked session now shows the conflict with a safer date.
    assert "Nearest date without a conflict" in page.content()
    page.check("input[name=email_opt_out]")
    page.click("text=Save email preference")
    page.wait_for_url("**/aftercare")
    assert "emails turned off" in page.content()
