"""The analytics page renders the builder, the summary with its chart, the comparison with
its caveat, lots with the flagged one highlighted, and each table as CSV; saving a cohort
from the page works and a taken name is said in words."""

from __future__ import annotations

import csv
import io

import pytest

from analytics.cohort_data import add_patient, arrange
from support import csrf_from


@pytest.fixture
def populated(world, session):
    k = arrange(session, world)
    for i in range(6):
        add_patient(session, k, values={0: 100.0 + i, 91: 110.0 + i * 1.5}, sessions=3)
        add_patient(
            session, k, values={0: 100.0 + i, 91: 118.0 + i * 2}, prp=True, sessions=3,
            lot="V-BAD", adverse=3,
        )  # fmt: skip
    return k


def _save(web, name: str, **fields: str):
    page = web.get("/analytics")
    data = {"csrf_token": csrf_from(page.text), "name": name, **fields}
    return web.post("/analytics/cohorts", data=data)


def test_the_page_shows_summary_chart_comparison_lots_and_stages(world, populated):
    web = world.web("clinician")
    assert _save(web, "Alone", prp="no").status_code == 303
    assert _save(web, "With PRP", prp="yes").status_code == 303
    r = web.get("/analytics?compare_a=Alone&compare_b=With+PRP&time_point=3m")
    assert r.status_code == 200
    html = r.text
    assert 'id="summary-table"' in html and 'svg role="img"' in html
    assert "With PRP against Alone" in html and 'id="caveat"' in html
    assert "observational" in html
    assert 'class="flagged"' in html and "V-BAD" in html
    assert 'id="stages-table"' in html and "candidacy.early_female_pattern" in html


def test_a_taken_name_is_refused_in_words(world, populated):
    web = world.web("clinician")
    assert _save(web, "Alone", prp="no").status_code == 303
    again = _save(web, "Alone", prp="yes")
    assert again.status_code == 409 and "already exists" in again.text


def test_saving_without_a_name_is_refused_in_words(world, populated):
    refused = _save(world.web("clinician"), "", prp="no")
    assert refused.status_code == 422 and "Give the cohort a name" in refused.text


def test_each_table_downloads_as_csv(world, populated):
    web = world.web("clinician")
    r = web.get("/analytics/export/summary.csv?prp=yes")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    three = next(row for row in rows if row["time_point"] == "3m")
    assert three["n"] == "6" and float(three["mean_change"]) == pytest.approx(20.5)
    _save(web, "Alone", prp="no")
    _save(web, "With PRP", prp="yes")
    compared = web.get(
        "/analytics/export/comparison.csv?compare_a=Alone&compare_b=With+PRP&time_point=3m"
    )
    assert compared.status_code == 200 and "ANCOVA" in compared.text and "caveat" in compared.text
    assert web.get("/analytics/export/nothing.csv").status_code == 404


def test_a_bad_filter_on_the_page_is_shown_beside_its_field(world, populated):
    r = world.web("clinician").get("/analytics?started_from=2026-05-01&started_to=2026-01-01")
    assert r.status_code == 200 and "started_to is before started_from" in r.text
    csv_r = world.web("clinician").get("/analytics/export/summary.csv?sex=other")
    assert csv_r.status_code == 422
