"""Patient pages: forms keep input and show field errors; search; tabs."""

from __future__ import annotations

from support import csrf_from


def test_registration_form_keeps_input_and_shows_field_errors(world):
    web = world.web("reception")
    token = csrf_from(web.get("/patients/new").text)
    r = web.post(
        "/patients/new",
        data={
            "csrf_token": token,
            "given_name": "Maya",
            "family_name": "",
            "birth_date": "1991-07-08",
            "sex": "female",
            "email": "bad",
        },
    )
    assert r.status_code == 422
    assert 'value="Maya"' in r.text and 'value="1991-07-08"' in r.text
    assert 'id="e-family_name"' in r.text and 'id="e-email"' in r.text


def test_registration_form_creates_and_redirects_to_the_record(world):
    web = world.web("reception")
    token = csrf_from(web.get("/patients/new").text)
    r = web.post(
        "/patients/new",
        data={
            "csrf_token": token,
            "given_name": "Maya",
            "family_name": "Lopez",
            "birth_date": "1991-07-08",
            "sex": "female",
        },
    )
    assert r.status_code == 303
    page = web.get(r.headers["location"])
    assert "Maya Lopez" in page.text and "Registered Maya Lopez" in page.text
    listing = web.get("/patients", params={"q": "lopez"})
    assert "Lopez, Maya" in listing.text


def test_patient_page_shows_tabs_allowed_for_the_role(world):
    nurse = world.web("nurse").get(f"/patients/{world.patient_a.id}").text
    assert "Medical history" in nurse and "Consents" in nurse
    reception = world.web("reception").get(f"/patients/{world.patient_a.id}").text
    assert "Medical history" not in reception and "Consents" in reception


def test_history_form_adds_an_allergy(world):
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/history"
    token = csrf_from(web.get(url).text)
    r = web.post(
        f"{url}/allergies",
        data={"csrf_token": token, "substance": "lidocaine", "severity": "severe"},
    )
    assert r.status_code == 303
    assert "lidocaine" in web.get(url).text


def test_consent_form_records_and_withdraws(world):
    web = world.web("reception")
    url = f"/patients/{world.patient_a.id}/consents"
    token = csrf_from(web.get(url).text)
    r = web.post(
        url,
        data={
            "csrf_token": token,
            "procedure": "mesotherapy",
            "signed_by": "Ana Silva",
            "signer_role": "patient",
        },
    )
    assert r.status_code == 303
    page = web.get(url).text
    assert "current" in page
    consent_id = page.split("/consents/", 1)[1].split("/withdraw", 1)[0]
    r = web.post(f"{url}/{consent_id}/withdraw", data={"csrf_token": token, "reason": "no"})
    assert r.status_code == 422
    r = web.post(
        f"{url}/{consent_id}/withdraw", data={"csrf_token": token, "reason": "moving abroad"}
    )
    assert r.status_code == 303
    assert "withdrawn" in web.get(url).text


def test_clinician_of_other_clinic_gets_not_found_page(world):
    r = world.web("clinician_b").get(f"/patients/{world.patient_a.id}")
    assert r.status_code == 404


def test_form_times_are_read_in_the_users_clinic_time_zone(world):
    web = world.web("clinician_b")  # clinic B is in Europe/Madrid (UTC+1 in January)
    url = f"/patients/{world.patient_b.id}/consents"
    r = web.post(
        url,
        data={
            "csrf_token": csrf_from(web.get(url).text),
            "procedure": "mesotherapy",
            "signed_by": "Carmen Ruiz",
            "signer_role": "patient",
            "signed_at": "2026-01-10T10:00",
        },
    )
    assert r.status_code == 303
    consents = world.client("admin").get(f"/api/v1/patients/{world.patient_b.id}/consents")
    assert consents.json()[0]["signed_at"].startswith("2026-01-10T09:00")
