"""A real Chromium signs in through the login form and lands on the dashboard."""

from __future__ import annotations

import pytest
from support import browser_login

pytestmark = pytest.mark.browser


def test_clinician_signs_in_and_sees_dashboard(world, page):
    browser_login(page, world.users["clinician"].username)
    assert page.locator("h1").inner_text().startswith("Good to see you")
