"""Aggregates only: no patient id, name, record number or birth date in any analytics answer
(JSON, page or CSV), and every figure resting on fewer than 5 patients hidden and flagged."""

from __future__ import annotations

import json

import pytest

from analytics.cohort_data import add_patient, arrange
from mesoclinic.analytics.cohorts import SMALL_CELL

BASE = "/api/v1/analytics"
CSV_TABLES = (
    "summary", "by-cocktail", "by-protocol", "products", "lots", "techniques", "clinicians",
    "stages", "rules",
)  # fmt: skip


@pytest.fixture
def patients(world, session):
    k = arrange(session, world)
    made = [
        add_patient(session, k, values={0: 100.0 + i, 91: 112.0 + i}, sessions=2) for i in range(6)
    ]
    made += [
        add_patient(
            session, k, values={0: 100.0, 91: 101.0}, prp=True, lot="V-BAD", stage=("ludwig", "II")
        )
        for _ in range(2)
    ]
    return made


def _identities(patients) -> list[str]:
    out = []
    for p in patients:
        out += [str(p.id), p.id.hex, p.record_number, p.family_name, p.birth_date.isoformat()]
    return out


def _answers(world) -> list[str]:
    api, web = world.client("clinician"), world.web("clinician")
    texts = [
        api.get(f"{BASE}/summary").text,
        api.get(f"{BASE}/lots", params={"time_point": "3m"}).text,
        api.get(f"{BASE}/by-stage", params={"time_point": "3m"}).text,
        api.get(
            f"{BASE}/compare",
            params={"filter_a": json.dumps({"prp": False}), "filter_b": "{}", "time_point": "3m"},
        ).text,
        web.get("/analytics?time_point=3m").text,
    ]
    for table in CSV_TABLES:
        r = web.get(f"/analytics/export/{table}.csv?time_point=3m")
        assert r.status_code == 200, (table, r.text[:300])
        texts.append(r.text)
    return texts


def test_no_patient_identity_leaves_through_analytics(world, patients):
    answers = _answers(world)
    for text in answers:
        for identity in _identities(patients):
            assert identity not in text


def test_every_cell_under_five_patients_is_hidden_and_flagged(world, patients):
    summary = world.client("clinician").get(f"{BASE}/summary").json()
    three = next(t for t in summary["time_points"] if t["time_point"] == "3m")
    assert three["n"] == 8 and three["cohort"] == 8
    prp = world.client("clinician").get(f"{BASE}/summary", params={"filter": '{"prp": true}'})
    small = next(t for t in prp.json()["time_points"] if t["time_point"] == "3m")
    assert small["n"] is None and small["mean_change"] is None and small["median_change"] is None
    assert {"cohort", "n", "mean_change"} <= set(small["suppressed"])
    lots = world.client("clinician").get(f"{BASE}/lots", params={"time_point": "3m"}).json()
    bad = next(row for row in lots["lots"] if row["name"] == "V-BAD")
    assert bad["patients"] is None and bad["events"] is None and bad["rate"] is None
    stages = world.client("clinician").get(f"{BASE}/by-stage", params={"time_point": "3m"})
    ludwig_two = next(s for s in stages.json()["stages"] if s["stage"] == "ludwig II")
    assert ludwig_two["n"] is None and "n" in ludwig_two["suppressed"]
    for text in (
        world.web("clinician").get("/analytics/export/stages.csv?time_point=3m").text,
        world.web("clinician").get("/analytics/export/lots.csv?time_point=3m").text,
    ):
        assert "<5" in text
    # Any count that is shown rests on at least SMALL_CELL patients (or is zero).
    for row in summary["time_points"]:
        for name in ("cohort", "measured", "n", "dropped_out", "no_value", "not_yet_due"):
            assert row[name] is None or row[name] == 0 or row[name] >= SMALL_CELL


def test_a_comparison_with_a_small_cohort_shows_no_estimate(world, patients):
    r = world.client("clinician").get(
        f"{BASE}/compare",
        params={"filter_a": '{"prp": false}', "filter_b": '{"prp": true}', "time_point": "3m"},
    )
    result = r.json()
    assert result["suppressed"] and result["rows"] == [] and result["n_b"] is None
    assert "at least 5 patients" in result["caveat"]
