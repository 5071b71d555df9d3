"""The analytics API: saved cohorts (CRUD, names unique per clinic, other clinics' invisible),
summary, comparison, lots and by-stage; bad input answers 422 naming the field; every route
needs the analytics permission; no identity leaves and small cells are hidden."""

from __future__ import annotations

import json
import uuid

import pytest

from analytics.cohort_data import add_patient, arrange
from mesoclinic.analytics.area import AnalyticsPermission
from mesoclinic.security.permissions import Role, has_permission

BASE = "/api/v1/analytics"
ROUTES = [
    ("GET", f"{BASE}/cohorts"),
    ("POST", f"{BASE}/cohorts"),
    ("GET", f"{BASE}/cohorts/{{id}}"),
    ("PATCH", f"{BASE}/cohorts/{{id}}"),
    ("DELETE", f"{BASE}/cohorts/{{id}}"),
    ("GET", f"{BASE}/summary"),
    ("GET", f"{BASE}/compare"),
    ("GET", f"{BASE}/lots"),
    ("GET", f"{BASE}/by-stage"),
    ("GET", "/analytics"),
    ("POST", "/analytics/cohorts"),
    ("GET", "/analytics/export/summary.csv"),
]


@pytest.fixture
def populated(world, session):
    """Ten patients in clinic A: five with PRP gaining 10 more at 3 months than five without,
    whatever their baseline; the PRP patients' vitamin lot has many adverse events."""
    k = arrange(session, world)
    for i in range(5):
        base, wobble = 100.0 + i, i % 2
        add_patient(
            session, k, values={0: base, 91: 110.0 + 2 * i + wobble}, sessions=4, lot="V-GOOD"
        )
        add_patient(
            session, k, values={0: base, 91: 120.0 + 2 * i + wobble}, prp=True, sessions=4,
            lot="V-BAD", adverse=3,
        )  # fmt: skip
    return k


@pytest.mark.parametrize("persona", ["admin", "clinician", "nurse", "reception", "patient"])
def test_every_analytics_route_answers_each_role_as_granted(world, persona):
    allowed = has_permission(Role(world.users[persona].role), AnalyticsPermission.VIEW)
    assert allowed == (persona in ("admin", "clinician"))
    client = world.client(persona)
    client.follow_redirects = False
    for method, path in ROUTES:
        url = path.replace("{id}", str(uuid.uuid4()))
        body = {"name": "x"} if method in ("POST", "PATCH") else None
        r = client.request(method, url, json=body)
        if allowed:
            assert r.status_code not in (401, 403), f"{persona} {method} {url}: {r.status_code}"
        else:
            assert r.status_code == 403, f"{persona} {method} {url}: {r.status_code}"


def test_anonymous_callers_are_refused(anon):
    anon.follow_redirects = False
    for method, path in ROUTES:
        r = anon.request(method, path.replace("{id}", str(uuid.uuid4())))
        assert r.status_code in (401, 303), f"{method} {path}: {r.status_code}"


def test_saved_cohorts_crud_and_clinic_scope(world, populated):
    a = world.client("clinician")
    body = {"name": "With PRP", "filter": {"prp": True}}
    created = a.post(f"{BASE}/cohorts", json=body)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.headers["Location"].endswith(cid)
    assert a.post(f"{BASE}/cohorts", json=body).status_code == 409
    # Another clinic may use the same name, and never sees clinic A's cohort.
    b = world.client("clinician_b")
    assert b.post(f"{BASE}/cohorts", json=body).status_code == 201
    assert b.get(f"{BASE}/cohorts/{cid}").status_code == 404
    assert [c["name"] for c in b.get(f"{BASE}/cohorts").json()] == ["With PRP"]
    renamed = a.patch(f"{BASE}/cohorts/{cid}", json={"name": "PRP patients"})
    assert renamed.status_code == 200 and renamed.json()["filter"]["prp"] is True
    summary = a.get(f"{BASE}/summary", params={"cohort": "PRP patients"})
    assert summary.status_code == 200 and summary.json()["cohort"] == "PRP patients"
    three = next(t for t in summary.json()["time_points"] if t["time_point"] == "3m")
    assert three["n"] == 5 and three["mean_change"] == pytest.approx(22.4)
    assert a.delete(f"{BASE}/cohorts/{cid}").status_code == 204
    assert a.get(f"{BASE}/cohorts/{cid}").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": "{not json"}, "filter"),
        ({"filter": json.dumps({"sex": "other"})}, "filter.sex"),
        ({"filter": json.dumps({"colour": "red"})}, "filter.colour"),
        (
            {"filter": json.dumps({"started_from": "2026-05-01", "started_to": "2026-01-01"})},
            "filter",
        ),
        ({"filter": json.dumps({"started_to": "9999-12-31"})}, "filter.started_to"),
        ({"kind": "blood_pressure"}, "kind"),
        ({"cohort": "nobody saved this"}, "cohort"),
    ],
)
def test_bad_input_is_a_plain_words_422_or_404_naming_the_field(world, params, field):
    r = world.client("clinician").get(f"{BASE}/summary", params=params)
    assert r.status_code in (404, 422), r.text
    assert r.json()["error"]["field"] == field


def test_a_bad_time_point_or_a_missing_cohort_to_compare_is_refused(world):
    c = world.client("clinician")
    r = c.get(f"{BASE}/compare", params={"filter_a": "{}", "filter_b": "{}", "time_point": "2y"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "time_point"
    r = c.get(f"{BASE}/compare", params={"filter_a": "{}"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "cohort_b"


def test_compare_gives_four_estimates_balance_and_the_caveat(world, populated):
    c = world.client("clinician")
    r = c.get(
        f"{BASE}/compare",
        params={
            "filter_a": json.dumps({"prp": False}),
            "filter_b": json.dumps({"prp": True}),
            "time_point": "3m",
        },
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["n_a"] == 5 and result["n_b"] == 5 and result["overlap"] == 0
    methods = {row["method"]: row for row in result["rows"]}
    assert set(methods) == {"unadjusted", "ancova", "mixed", "propensity"}
    assert methods["unadjusted"]["difference"] == pytest.approx(10.0)
    assert methods["ancova"]["difference"] == pytest.approx(10.0)
    assert "observational" in result["caveat"]
    assert {b["covariate"] for b in result["balance"]} >= {"age"}


def test_lots_flag_the_lot_with_more_adverse_events(world, populated):
    r = world.client("clinician").get(f"{BASE}/lots", params={"time_point": "3m"})
    assert r.status_code == 200, r.text
    lots = {row["name"]: row for row in r.json()["lots"]}
    assert lots["V-BAD"]["flagged"] and not lots["V-GOOD"]["flagged"]
    assert lots["V-BAD"]["events"] == 15 and lots["V-BAD"]["exposures"] == 20
    assert lots["V-BAD"]["ci"]["low"] < 0.75 < lots["V-BAD"]["ci"]["high"]
    techniques = {row["name"]: row for row in r.json()["techniques"]}
    assert techniques["nappage"]["exposures"] == 40


def test_by_stage_reports_each_stage_and_the_rules_beside_it(world, populated):
    r = world.client("clinician").get(f"{BASE}/by-stage", params={"time_point": "3m"})
    assert r.status_code == 200, r.text
    stages = r.json()["stages"]
    assert [(s["diagnosis"], s["stage"], s["n"]) for s in stages] == [
        ("female_pattern_hair_loss", "ludwig I", 10)
    ]
    rules = {rule["rule_id"]: rule for rule in r.json()["rules"]}
    assert rules["candidacy.early_female_pattern"]["n"] == 10
    assert rules["candidacy.early_female_pattern"]["responders"] == 10
