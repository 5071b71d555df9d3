"""Measurement routes: units, ranges and provenance kept; 422 naming the field, nothing stored;
voids and corrections keep history; every read audited."""

from __future__ import annotations

import uuid

import pytest

from outcomes.measure_data import density, make_site, record, rows, when
from support import audit_entries


def test_a_density_is_stored_with_its_unit_site_and_who_entered_it(world):
    site = make_site(world)
    created = record(world, density(site["id"], 151.2))
    assert created["unit"] == "/cm2" and created["value"] == 151.2
    assert created["site_id"] == site["id"]
    assert created["source"] == "manual" and created["recorded_by"] == "clinician.user"
    assert created["status"] == "final"
    read = world.client("nurse").get(f"/api/v1/measurements/{created['id']}").json()
    assert read == created


def test_a_device_value_keeps_the_device_name(world):
    site = make_site(world)
    created = record(world, density(site["id"], source="device", device_name="TrichoScan"))
    assert created["source"] == "device" and created["device_name"] == "TrichoScan"
    only_name = record(world, density(site["id"], device_name="FotoFinder"))
    assert only_name["source"] == "device"


def test_a_device_value_without_the_device_is_refused(world):
    site = make_site(world)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/measurements",
        json=density(site["id"], source="device"),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "device_name"
    assert rows(world.db) == 0


def test_a_blinded_photographic_assessment_keeps_its_rater(world):
    created = record(
        world,
        {
            "kind": "global_photo_assessment",
            "value": 2,
            "unit": "{score}",
            "measured_at": when(),
            "rater": "Dr Patel",
            "blinded": True,
        },
    )
    assert created["rater"] == "Dr Patel" and created["blinded"] is True


BAD = [
    ({"unit": "/mm2"}, "unit"),
    ({"value": 1200}, "value"),
    ({"value": -1}, "value"),
    ({"site_id": None}, "site_id"),
    ({"kind": "hair_colour"}, "kind"),
    ({"kind": "hair_count", "unit": "{hairs}", "value": 12.5}, "value"),
    ({"measured_at": "2026-01-01T10:00:00"}, "measured_at"),
    ({"measured_at": "2999-01-01T10:00:00+00:00"}, "measured_at"),
    ({"value": "many"}, "value"),
    ({"note": "bad\u0000byte"}, "note"),
    ({"source": "image-analysis"}, "source"),
    ({"extra": 1}, "extra"),
]


@pytest.mark.parametrize("override, field", BAD)
def test_bad_measurement_names_the_field_and_stores_nothing(world, override, field):
    site = make_site(world)
    body = {**density(site["id"]), **override}
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/measurements", json=body
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert r.json()["error"]["message"]
    assert rows(world.db) == 0


def test_a_missing_rater_is_named(world):
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/measurements",
        json={
            "kind": "global_photo_assessment",
            "value": 1,
            "unit": "{score}",
            "measured_at": when(),
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "rater"
    assert "rater" in r.json()["error"]["message"]
    assert rows(world.db) == 0


def test_a_site_of_another_patient_or_voided_is_refused(world):
    other = make_site(world, patient=world.other_patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/measurements", json=density(other["id"])
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "site_id"
    mine = make_site(world)
    c = world.client("clinician")
    assert c.post(f"/api/v1/sites/{mine['id']}/void", json={"reason": "wrong spot"}).is_success
    r = c.post(f"/api/v1/patients/{world.patient_a.id}/measurements", json=density(mine["id"]))
    assert r.status_code == 422 and r.json()["error"]["field"] == "site_id"
    assert rows(world.db) == 0


def test_a_visit_of_another_patient_is_refused(world):
    site = make_site(world)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/measurements",
        json=density(site["id"], visit_id=str(uuid.uuid4())),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "visit_id"
    assert rows(world.db) == 0


def test_voiding_keeps_the_value_with_its_reason(world):
    site = make_site(world)
    m = record(world, density(site["id"]))
    c = world.client("clinician")
    r = c.post(f"/api/v1/measurements/{m['id']}/void", json={"reason": "wrong patient"})
    assert r.status_code == 200
    assert r.json()["status"] == "entered-in-error" and r.json()["void_reason"] == "wrong patient"
    url = f"/api/v1/patients/{world.patient_a.id}/measurements"
    assert c.get(url).json() == []
    kept = c.get(url, params={"include_voided": True}).json()
    assert [k["id"] for k in kept] == [m["id"]]
    again = c.post(f"/api/v1/measurements/{m['id']}/void", json={"reason": "again"})
    assert again.status_code == 409
    assert c.post(f"/api/v1/measurements/{m['id']}/void", json={}).status_code == 422
    assert rows(world.db) == 1


def test_a_correction_keeps_the_original_beside_it(world):
    site = make_site(world)
    m = record(world, density(site["id"], 41.0))
    c = world.client("nurse")
    r = c.post(
        f"/api/v1/measurements/{m['id']}/correct",
        json={"value": 141.0, "reason": "a digit was missed"},
    )
    assert r.status_code == 201, r.text
    fixed = r.json()
    assert fixed["status"] == "corrected" and fixed["corrects_id"] == m["id"]
    assert fixed["value"] == 141.0 and fixed["unit"] == "/cm2" and fixed["site_id"] == site["id"]
    assert fixed["recorded_by"] == "nurse.user" and fixed["note"] == "a digit was missed"
    original = c.get(f"/api/v1/measurements/{m['id']}").json()
    assert original["value"] == 41.0 and original["superseded_at"] is not None
    url = f"/api/v1/patients/{world.patient_a.id}/measurements"
    assert [x["id"] for x in c.get(url).json()] == [fixed["id"]]
    history = c.get(url, params={"include_superseded": True}).json()
    assert {x["id"] for x in history} == {m["id"], fixed["id"]}
    # the original can no longer be changed; the correction is checked like any value
    assert (
        c.post(
            f"/api/v1/measurements/{m['id']}/correct", json={"value": 140, "reason": "again"}
        ).status_code
        == 409
    )
    bad = c.post(
        f"/api/v1/measurements/{fixed['id']}/correct", json={"value": 5000, "reason": "typo"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "value"
    assert rows(world.db) == 2


def test_filters_by_kind_and_site(world):
    vertex = make_site(world)
    crown = make_site(world, location="crown")
    a = record(world, density(vertex["id"], measured_at=when(10)))
    b = record(world, density(crown["id"], measured_at=when(5)))
    comb = record(
        world, {"kind": "comb_count_60s", "value": 80, "unit": "{hairs}", "measured_at": when(2)}
    )
    c = world.client("clinician")
    url = f"/api/v1/patients/{world.patient_a.id}/measurements"
    assert [x["id"] for x in c.get(url).json()] == [comb["id"], b["id"], a["id"]]
    assert [x["id"] for x in c.get(url, params={"kind": "density_total"}).json()] == [
        b["id"],
        a["id"],
    ]
    assert [x["id"] for x in c.get(url, params={"site_id": vertex["id"]}).json()] == [a["id"]]
    r = c.get(url, params={"kind": "nope"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"


def test_every_read_and_write_is_audited(world):
    site = make_site(world)
    m = record(world, density(site["id"]))
    c = world.client("clinician")
    c.get(f"/api/v1/measurements/{m['id']}")
    c.get(f"/api/v1/patients/{world.patient_a.id}/measurements")
    c.post(f"/api/v1/measurements/{m['id']}/void", json={"reason": "duplicate entry"})
    mine = audit_entries(world.db, entity_type="measurement", patient_id=world.patient_a.id)
    actions = [(e.action, e.entity_id) for e in mine]
    assert ("create", m["id"]) in actions
    assert ("read", m["id"]) in actions
    assert ("read", None) in actions
    assert ("void", m["id"]) in actions


def test_the_kinds_rulebook_is_served(world):
    book = world.client("nurse").get("/api/v1/measurement-kinds").json()
    kinds = {k["code"]: k for k in book["kinds"]}
    assert kinds["density_total"]["unit"] == "/cm2"
    assert kinds["global_photo_assessment"]["needs_rater"] is True
    assert world.client("reception").get("/api/v1/measurement-kinds").status_code == 403


def test_measurement_routes_refuse_outsiders(world):
    site = make_site(world)
    m = record(world, density(site["id"]))
    pid = world.patient_a.id
    routes = [
        ("get", f"/api/v1/patients/{pid}/measurements", None),
        ("post", f"/api/v1/patients/{pid}/measurements", density(site["id"])),
        ("get", f"/api/v1/measurements/{m['id']}", None),
        ("post", f"/api/v1/measurements/{m['id']}/void", {"reason": "not mine"}),
        ("post", f"/api/v1/measurements/{m['id']}/correct", {"value": 150, "reason": "typo"}),
    ]
    for persona, status in (("clinician_b", 404), ("reception", 403)):
        c = world.client(persona)
        for method, url, body in routes:
            r = getattr(c, method)(url, json=body) if body else getattr(c, method)(url)
            assert r.status_code == status, (persona, url, r.status_code)
    me = world.client("patient")
    assert me.get(f"/api/v1/measurements/{m['id']}").status_code == 200
    assert me.get(f"/api/v1/patients/{pid}/measurements").status_code == 200
    for method, url, body in routes[1:2] + routes[3:]:
        assert getattr(me, method)(url, json=body).status_code == 403
    other = world.client("patient")
    theirs = record(
        world, density(make_site(world, world.other_patient_a)["id"]), world.other_patient_a
    )
    assert other.get(f"/api/v1/measurements/{theirs['id']}").status_code == 404
    assert other.get(f"/api/v1/patients/{world.other_patient_a.id}/measurements").status_code == 404
    assert rows(world.db) == 2
    with_status = world.client("clinician").get(f"/api/v1/measurements/{m['id']}").json()
    assert with_status["status"] == "final" and with_status["superseded_at"] is None
