"""`mesoclinic measurements add|list` and `mesoclinic sites list`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from outcomes.measure_data import make_site, rows
from support import audit_entries

# CLI commands and worker processes open their own connections: real commits.
pytestmark = pytest.mark.committed


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(build_app(), list(args))


def test_add_then_list_a_measurement(cli, world):
    site = make_site(world)
    pid = str(world.patient_a.id)
    r = cli(
        "measurements",
        "add",
        pid,
        "--kind",
        "density_total",
        "--value",
        "152.5",
        "--unit",
        "/cm2",
        "--site",
        site["id"],
        "--at",
        "2026-01-05T10:00:00+00:00",
        "--device",
        "TrichoScan",
    )
    assert r.exit_code == 0, r.output
    assert "density_total 152.5 /cm2 (device)" in r.output
    r = cli(
        "measurements",
        "add",
        pid,
        "--kind",
        "global_photo_assessment",
        "--value",
        "2",
        "--unit",
        "{score}",
        "--rater",
        "Dr Patel",
        "--blinded",
        "--by",
        "dr.moreau",
    )
    assert r.exit_code == 0, r.output
    listed = cli("measurements", "list", pid, "--json")
    assert listed.exit_code == 0, listed.output
    values = json.loads(listed.output)
    assert {v["kind"] for v in values} == {"density_total", "global_photo_assessment"}
    photo = next(v for v in values if v["kind"] == "global_photo_assessment")
    assert photo["blinded"] is True and photo["recorded_by"] == "dr.moreau"
    text = cli("measurements", "list", pid, "--kind", "density_total")
    assert "density_total" in text.output and "global_photo" not in text.output
    assert audit_entries(world.db, action="read", entity_type="measurement", actor_username="cli")


@pytest.mark.parametrize(
    "args, option",
    [
        (
            ["--kind", "density_total", "--value", "150", "--unit", "/mm2", "--site", "SITE"],
            "--unit",
        ),
        (
            ["--kind", "density_total", "--value", "5000", "--unit", "/cm2", "--site", "SITE"],
            "--value",
        ),
        (["--kind", "density_total", "--value", "150", "--unit", "/cm2"], "--site"),
        (["--kind", "global_photo_assessment", "--value", "1", "--unit", "{score}"], "--rater"),
        (["--kind", "nope", "--value", "1", "--unit", "1"], "--kind"),
        (
            [
                "--kind",
                "pull_test",
                "--value",
                "3",
                "--unit",
                "{hairs}",
                "--at",
                "2026-01-05T10:00",
            ],
            "--at",
        ),
        (["--kind", "pull_test", "--value", "lots", "--unit", "{hairs}"], "--value"),
    ],
)
def test_bad_input_names_the_option_and_stores_nothing(cli, world, args, option):
    site = make_site(world)
    args = [site["id"] if a == "SITE" else a for a in args]
    r = cli("measurements", "add", str(world.patient_a.id), *args)
    assert r.exit_code != 0
    assert option in r.output, r.output
    assert rows(world.db) == 0


def test_sites_are_listed_with_their_ids(cli, world):
    site = make_site(world, description="tattoo dot", clipped=True)
    r = cli("sites", "list", str(world.patient_a.id))
    assert r.exit_code == 0 and site["id"] in r.output and "clipped" in r.output
    missing = cli("sites", "list", "00000000-0000-4000-8000-000000000000")
    assert missing.exit_code == 1 and "not found" in missing.output.lower()
