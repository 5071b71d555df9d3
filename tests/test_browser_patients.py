"""A real browser: sign in, register a patient through the form, find them by search."""

from __future__ import annotations

import pytest

from support import browser_login

# the browser talks to a live server, which sees only committed data
pytestmark = [pytest.mark.browser, pytest.mark.committed]


def test_reception_registers_a_patient_and_finds_them(world, page):
    browser_login(page, world.users["reception"].username)
    page.click("text=Patients")
    page.click("text=Register a patient")
    page.fill("#f-given_name", "Noor")
    page.fill("#f-family_name", "Haddad")
    page.fill("#f-birth_date", "1988-03-14")
    page.select_option("#f-sex", "female")
    page.fill("#f-phone", "+44 20 7946 0777")
    page.click("text=Register patient")
    page.wait_for_url("**/patients/*")
    assert "Registered Noor Haddad" in page.content()
    page.goto("/patients")
    page.fill("input[name=q]", "haddad")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=haddad**")
    assert page.locator("table tbody tr").count() == 1
    assert "Haddad, Noor" in page.locator("table tbody").inner_text()


def test_form_errors_are_shown_and_input_kept(world, page):
    browser_login(page, world.users["reception"].username)
    page.goto("/patients/new")
    page.fill("#f-given_name", "Kept")
    page.fill("#f-birth_date", "1988-03-14")
    page.select_option("#f-sex", "male")
    page.click("text=Register patient")
    assert page.locator("#e-family_name").is_visible()
    assert page.input_value("#f-given_name") == "Kept"
