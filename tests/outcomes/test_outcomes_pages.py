"""The Outcomes tab: sites and measurements shown with provenance, forms without JavaScript,
errors beside the field, read-only for the patient, closed to outsiders."""

from __future__ import annotations

import re

from outcomes.measure_data import density, make_site, record, rows, site_rows, when
from support import audit_entries, csrf_from


def _tab(world, persona="clinician", patient=None):
    patient = patient or world.patient_a
    web = world.web(persona)
    return web, f"/patients/{patient.id}/outcomes", web.get(f"/patients/{patient.id}/outcomes")


def test_the_tab_shows_sites_and_values_with_their_provenance(world):
    site = make_site(world, description="2 cm behind the crown; tattoo dot", clipped=True)
    record(world, density(site["id"], 138.0, device_name="TrichoScan"))
    record(world, density(site["id"], 131.5, measured_at=when(40)))
    record(
        world,
        {
            "kind": "global_photo_assessment",
            "value": 1,
            "unit": "{score}",
            "measured_at": when(),
            "rater": "Dr Patel",
            "blinded": True,
        },
    )
    _, _, page = _tab(world)
    assert page.status_code == 200
    text = page.text
    assert f'href="/patients/{world.patient_a.id}/outcomes"' in text
    assert "2 cm behind the crown; tattoo dot" in text and "clipped" in text
    assert "device: TrichoScan" in text and "entered by Clinician" in text
    assert "138 hairs/cm²" in text and "rater Dr Patel, blinded" in text and "+1" in text
    assert text.index("138 hairs/cm²") < text.index("131.5 hairs/cm²")  # newest first
    assert "Record a measurement" in text and "Mark a new site" in text
    assert audit_entries(world.db, action="read", entity_type="measurement")


def test_a_site_and_a_measurement_are_added_from_the_forms(world):
    web, url, page = _tab(world)
    token = csrf_from(page.text)
    r = web.post(
        f"{url}/sites",
        data={
            "location": "crown",
            "description": "tattoo dot",
            "clipped": "on",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303, r.text
    site_id = re.search(r'id="site-([0-9a-f-]{36})"', web.get(url).text).group(1)
    r = web.post(
        f"{url}/measurements",
        data={
            "kind": "density_total",
            "value": "144",
            "unit": "/cm2",
            "site_id": site_id,
            "measured_at": "2026-01-05T10:30",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303, r.text
    assert "144 hairs/cm²" in web.get(url).text
    assert rows(world.db) == 1 and site_rows(world.db) == 1


def test_a_wrong_unit_is_shown_beside_the_field_and_nothing_is_stored(world):
    site = make_site(world)
    web, url, page = _tab(world)
    r = web.post(
        f"{url}/measurements",
        data={
            "kind": "density_total",
            "value": "144",
            "unit": "{hairs}",
            "site_id": site["id"],
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 422
    assert 'id="e-unit"' in r.text and "recorded in /cm2, not {hairs}" in r.text
    assert 'value="144"' in r.text  # the user's input is kept
    r = web.post(
        f"{url}/measurements",
        data={
            "kind": "density_total",
            "value": "144",
            "unit": "/cm2",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 422 and 'id="e-site_id"' in r.text
    r = web.post(
        f"{url}/measurements",
        data={
            "kind": "global_photo_assessment",
            "value": "1",
            "unit": "{score}",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 422 and 'id="e-rater"' in r.text
    r = web.post(f"{url}/sites", data={"location": "other", "csrf_token": csrf_from(page.text)})
    assert r.status_code == 422 and 'id="e-label"' in r.text
    assert rows(world.db) == 0 and site_rows(world.db) == 1


def test_void_and_correct_from_the_tab_keep_both_rows_marked(world):
    site = make_site(world)
    first = record(world, density(site["id"], 41))
    second = record(world, density(site["id"], 150, measured_at=when(3)))
    web, url, page = _tab(world, "nurse")
    token = csrf_from(page.text)
    r = web.post(
        f"{url}/measurements/{first['id']}/correct",
        data={"value": "141", "reason": "digit missed", "csrf_token": token},
    )
    assert r.status_code == 303, r.text
    r = web.post(
        f"{url}/measurements/{second['id']}/void", data={"reason": "", "csrf_token": token}
    )
    assert r.status_code == 422 and f'id="e-void-{second["id"]}-reason"' in r.text
    r = web.post(
        f"{url}/measurements/{second['id']}/void",
        data={"reason": "wrong patient", "csrf_token": token},
    )
    assert r.status_code == 303
    text = web.get(url).text
    assert 'data-state="superseded"' in text and 'data-state="correction"' in text
    assert 'data-state="entered in error"' in text and "wrong patient" in text
    assert rows(world.db) == 3


def test_site_edit_and_void_from_the_tab(world):
    site = make_site(world)
    web, url, page = _tab(world)
    token = csrf_from(page.text)
    r = web.post(
        f"{url}/sites/{site['id']}",
        data={"location": "vertex", "description": "new dot", "clipped": "on", "csrf_token": token},
    )
    assert r.status_code == 303
    r = web.post(
        f"{url}/sites/{site['id']}/void", data={"reason": "wrong spot", "csrf_token": token}
    )
    assert r.status_code == 303
    text = web.get(url).text
    assert "new dot" in text and "Entered in error: wrong spot" in text


def test_the_patient_sees_their_own_tab_read_only(world):
    site = make_site(world)
    record(world, density(site["id"]))
    web, url, page = _tab(world, "patient")
    assert page.status_code == 200 and "142.5 hairs/cm²" in page.text
    assert (
        "Record a measurement" not in page.text and "<form" not in page.text.split('id="sites"')[1]
    )
    r = web.post(
        f"{url}/measurements",
        data={
            "kind": "pull_test",
            "value": "1",
            "unit": "{hairs}",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 403
    assert web.get(f"/patients/{world.other_patient_a.id}/outcomes").status_code == 404
    assert rows(world.db) == 1


def test_outsiders_get_no_tab_and_no_form(world):
    site = make_site(world)
    m = record(world, density(site["id"]))
    for persona, status in (("clinician_b", 404), ("reception", 403)):
        web, url, page = _tab(world, persona)
        assert page.status_code == status, persona
        token = (
            csrf_from(web.get("/patients").text)
            if persona == "reception"
            else csrf_from(web.get("/").text)
        )
        posts = [
            (f"{url}/sites", {"location": "crown"}),
            (f"{url}/sites/{site['id']}", {"location": "crown"}),
            (f"{url}/sites/{site['id']}/void", {"reason": "because"}),
            (f"{url}/measurements", {"kind": "pull_test", "value": "1", "unit": "{hairs}"}),
            (f"{url}/measurements/{m['id']}/void", {"reason": "because"}),
            (f"{url}/measurements/{m['id']}/correct", {"value": "150", "reason": "because"}),
        ]
        for post_url, data in posts:
            assert web.post(post_url, data={**data, "csrf_token": token}).status_code == status
    assert rows(world.db) == 1 and site_rows(world.db) == 1


def test_a_record_of_another_patient_under_this_url_is_not_touched(world):
    theirs = make_site(world, world.other_patient_a)
    web, url, page = _tab(world)
    r = web.post(
        f"{url}/sites/{theirs['id']}/void",
        data={"reason": "wrong", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 404
    listed = (
        world.client("clinician").get(f"/api/v1/patients/{world.other_patient_a.id}/sites").json()
    )
    assert listed[0]["status"] == "active"
