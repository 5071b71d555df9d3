"""Marked scalp sites: mark, describe again, void (kept), scoping and audit."""

from __future__ import annotations

import pytest

from outcomes.measure_data import make_site, site_rows
from support import audit_entries


def test_a_site_keeps_its_description_and_clipped_flag(world):
    site = make_site(world, description="2 cm behind the crown, on the midline; tattoo dot")
    assert site["label"] == "Vertex" and site["location"] == "vertex"
    assert site["description"].startswith("2 cm behind") and site["clipped"] is False
    other = make_site(world, location="other", label="Left parietal scar edge", clipped=True)
    assert other["label"] == "Left parietal scar edge" and other["clipped"] is True
    listed = world.client("nurse").get(f"/api/v1/patients/{world.patient_a.id}/sites").json()
    assert [s["id"] for s in listed] == [site["id"], other["id"]]


def test_a_site_can_be_described_again_and_clipped(world):
    site = make_site(world)
    c = world.client("nurse")
    r = c.patch(f"/api/v1/sites/{site['id']}", json={"clipped": True, "description": "tattoo dot"})
    assert r.status_code == 200
    assert r.json()["clipped"] is True and r.json()["description"] == "tattoo dot"
    assert r.json()["label"] == "Vertex"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"location": "elbow"}, "location"),
        ({"location": "other"}, "label"),
        ({"location": "vertex", "description": "nul\u0000"}, "description"),
        ({"location": "vertex", "label": "x" * 200}, "label"),
        ({"location": "vertex", "colour": "red"}, "colour"),
    ],
)
def test_bad_site_names_the_field_and_stores_nothing(world, body, field):
    r = world.client("clinician").post(f"/api/v1/patients/{world.patient_a.id}/sites", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == field
    assert site_rows(world.db) == 0


def test_a_voided_site_is_kept_marked_and_cannot_change(world):
    site = make_site(world)
    c = world.client("clinician")
    assert c.post(f"/api/v1/sites/{site['id']}/void", json={"reason": ""}).status_code == 422
    r = c.post(f"/api/v1/sites/{site['id']}/void", json={"reason": "marked on the wrong patient"})
    assert r.status_code == 200 and r.json()["status"] == "entered-in-error"
    listed = c.get(f"/api/v1/patients/{world.patient_a.id}/sites").json()
    assert listed[0]["void_reason"] == "marked on the wrong patient"
    assert c.patch(f"/api/v1/sites/{site['id']}", json={"clipped": True}).status_code == 409
    assert c.post(f"/api/v1/sites/{site['id']}/void", json={"reason": "again"}).status_code == 409
    active = c.get(f"/api/v1/patients/{world.patient_a.id}/sites?include_voided=false").json()
    assert active == []
    assert site_rows(world.db) == 1


def test_site_reads_and_writes_are_audited(world):
    site = make_site(world)
    world.client("nurse").get(f"/api/v1/patients/{world.patient_a.id}/sites")
    world.client("nurse").patch(f"/api/v1/sites/{site['id']}", json={"clipped": True})
    entries = audit_entries(world.db, entity_type="measurement_site")
    assert [e.action for e in entries] == ["create", "read", "update"]
    assert all(e.patient_id == world.patient_a.id for e in entries)


def test_site_routes_refuse_outsiders(world):
    site = make_site(world)
    pid = world.patient_a.id
    for persona, status in (("clinician_b", 404), ("reception", 403)):
        c = world.client(persona)
        assert c.get(f"/api/v1/patients/{pid}/sites").status_code == status
        assert (
            c.post(f"/api/v1/patients/{pid}/sites", json={"location": "crown"}).status_code
            == status
        )
        assert c.patch(f"/api/v1/sites/{site['id']}", json={"clipped": True}).status_code == status
        assert (
            c.post(f"/api/v1/sites/{site['id']}/void", json={"reason": "because"}).status_code
            == status
        )
    me = world.client("patient")
    assert me.get(f"/api/v1/patients/{pid}/sites").status_code == 200
    assert me.get(f"/api/v1/patients/{world.other_patient_a.id}/sites").status_code == 404
    assert me.post(f"/api/v1/patients/{pid}/sites", json={"location": "crown"}).status_code == 403
    assert me.patch(f"/api/v1/sites/{site['id']}", json={"clipped": True}).status_code == 403
    assert site_rows(world.db) == 1
