"""`mesoclinic images reanalyse` and `mesoclinic corrections export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from mesoclinic.imaging.results import ALGORITHM_VERSIONS
from mesoclinic.outcomes.models import AnalysisJob
from outcomes.image_factory import MLP, make_site, synthetic_image

# CLI commands and worker processes open their own connections: real commits.
pytestmark = pytest.mark.committed


def test_reanalyse_and_export_commands(world: Any, monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", world.db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    site = make_site(world.db.factory, world.patient_a.id)
    image = synthetic_image(world.db.factory, tmp_path / "images", world.patient_a, site_id=site)
    runner = CliRunner()
    app = build_app()
    bad = runner.invoke(app, ["images", "reanalyse", "--all", str(image)])
    assert bad.exit_code == 2
    unknown = runner.invoke(app, ["images", "reanalyse", str(image), "--version", "v9"])
    assert unknown.exit_code == 1 and "unknown algorithm version" in unknown.output
    r = runner.invoke(app, ["images", "reanalyse", str(image), "--version", MLP])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["images", "reanalyse", "--all", "--version", ALGORITHM_VERSIONS["cnn"]])
    assert r.exit_code == 0 and "1 jobs queued" in r.output
    with world.db.factory() as s:
        versions = sorted(s.execute(select(AnalysisJob.algorithm_version)).scalars())
    assert versions == sorted([MLP, ALGORITHM_VERSIONS["cnn"]])
    out = runner.invoke(app, ["corrections", "export", str(tmp_path / "export")])
    assert out.exit_code == 0 and "wrote 0 reviewed images" in out.output
