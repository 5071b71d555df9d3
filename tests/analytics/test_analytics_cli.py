"""`mesoclinic analytics [--cohort NAME | --filter JSON] [--compare OTHER] --json`,
`mesoclinic analytics lots`, `mesoclinic analytics cohorts` and `mesoclinic analytics
rebuild`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from analytics.cohort_data import add_patient, arrange
from mesoclinic.analytics import rows, service
from mesoclinic.analytics.cohorts import CohortFilter
from mesoclinic.analytics.models import ANALYTICS_PATIENTS, ANALYTICS_STATE
from mesoclinic.analytics.schemas import CohortCreate
from mesoclinic.cli import build_app
from mesoclinic.db import unit_of_work
from support import audit_entries

# The command opens its own connection: real commits.
pytestmark = pytest.mark.committed


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(build_app(), list(args))


@pytest.fixture
def saved(world):
    with unit_of_work(world.db.factory) as s:
        k = arrange(s, world)
        for i in range(5):
            add_patient(s, k, values={0: 100.0 + i, 91: 110.0 + 2 * i + i % 2}, sessions=2)
            add_patient(
                s, k, values={0: 100.0 + i, 91: 120.0 + 2 * i + i % 2}, prp=True, sessions=2,
                lot="V-BAD", adverse=2,
            )  # fmt: skip
        actor = world.actor("clinician")
        for name, prp in (("Alone", False), ("With PRP", True)):
            service.create_cohort(s, actor, CohortCreate(name=name, filter=CohortFilter(prp=prp)))


def test_summary_of_a_saved_cohort_as_json(cli, world, saved):
    r = cli("analytics", "--cohort", "With PRP", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    three = next(t for t in result["time_points"] if t["time_point"] == "3m")
    assert result["cohort"] == "With PRP" and three["n"] == 5
    assert three["mean_change"] == pytest.approx(22.4)
    entries = [e for e in audit_entries(world.db, action="analytics") if e.actor_username == "cli"]
    assert len(entries) == 1 and entries[0].patient_id is None


def test_summary_of_a_filter_and_a_comparison(cli, saved):
    r = cli("analytics", "--filter", '{"prp": false}', "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["cohort"] == "custom filter"
    r = cli(
        "analytics", "--cohort", "Alone", "--compare", "With PRP", "--time-point", "3m", "--json"
    )
    assert r.exit_code == 0, r.output
    rows = {row["method"]: row for row in json.loads(r.output)["rows"]}
    assert rows["ancova"]["difference"] == pytest.approx(10.0)
    table = cli("analytics", "--cohort", "Alone", "--compare", "With PRP", "--time-point", "3m")
    assert table.exit_code == 0 and "ANCOVA" in table.output and "observational" in table.output


def test_lots_and_cohorts(cli, saved):
    r = cli("analytics", "lots", "--json")
    assert r.exit_code == 0, r.output
    lots = {row["name"]: row for row in json.loads(r.output)["lots"]}
    assert lots["V-BAD"]["flagged"] and not lots["V-GOOD"]["flagged"]
    listed = cli("analytics", "cohorts", "--json")
    assert {c["name"] for c in json.loads(listed.output)} == {"Alone", "With PRP"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--filter", "{oops"], "filter: is not valid JSON"),
        (["--filter", '{"sex": "x"}'], "filter.sex"),
        (["--cohort", "Nobody"], "No saved cohort"),
        (["--kind", "weight"], "Unknown measurement kind"),
    ],
)
def test_bad_input_exits_non_zero_with_plain_words(cli, saved, args, words):
    r = cli("analytics", *args, "--json")
    assert r.exit_code != 0 and words in r.output


def test_rebuild_writes_the_derived_rows_again_and_is_audited(cli, world, saved):
    with unit_of_work(world.db.factory) as s:  # a stale definition: the reads go around it
        s.execute(ANALYTICS_STATE.update().values(fingerprint="an older definition"))
        assert not rows.ready(s.connection())
    r = cli("analytics", "rebuild")
    assert r.exit_code == 0, r.output
    assert "Rebuilt 10 analytics_patients" in r.output
    with unit_of_work(world.db.factory) as s:
        assert rows.ready(s.connection())
        assert len(s.execute(ANALYTICS_PATIENTS.select()).all()) == 10
    entries = [e for e in audit_entries(world.db, action="rebuild") if e.actor_username == "cli"]
    assert len(entries) == 1 and entries[0].patient_id is None
