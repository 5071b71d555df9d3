"""The patient page offers the FHIR record to those who may read it, and the link works with
the web session."""

from __future__ import annotations

from fhir_data import FHIR_JSON


def test_clinician_downloads_the_fhir_record_from_the_patient_page(world):
    web = world.web("clinician")
    page = web.get(f"/patients/{world.patient_a.id}")
    link = f"/fhir/Patient/{world.patient_a.id}/$everything"
    assert page.status_code == 200 and link in page.text
    r = web.get(link)
    assert r.status_code == 200 and r.headers["content-type"].startswith(FHIR_JSON)
    assert r.json()["entry"][0]["resource"]["id"] == str(world.patient_a.id)


def test_reception_sees_no_fhir_link(world):
    page = world.web("reception").get(f"/patients/{world.patient_a.id}")
    assert page.status_code == 200
    assert "$everything" not in page.text
