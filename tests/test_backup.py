"""Backup and restore: a round trip loses nothing, and the CLI reports bad archives."""

from __future__ import annotations

import zipfile

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mesoclinic.backup import backup, restore
from mesoclinic.cli import build_app
from mesoclinic.models_registry import metadata

# backup and restore work on the engine, outside any test transaction
pytestmark = pytest.mark.committed


def _dump(db):
    with db.engine.connect() as conn:
        return {
            t.name: sorted(map(repr, (tuple(r) for r in conn.execute(select(t)))))
            for t in metadata.sorted_tables
        }


def test_round_trip_restores_every_row_and_image(world, tmp_path):
    c = world.client("clinician")
    c.post(f"/api/v1/patients/{world.patient_a.id}/allergies", json={"substance": "zinc"})
    images = tmp_path / "images"
    (images / "p1").mkdir(parents=True)
    (images / "p1" / "scalp.jpg").write_bytes(b"\xff\xd8fake-jpeg")
    before = _dump(world.db)
    archive = tmp_path / "backup.zip"
    counts = backup(world.db.engine, images, archive)
    assert counts["patients"] == 3

    c.post(
        "/api/v1/patients",
        json={
            "given_name": "Late",
            "family_name": "Addition",
            "birth_date": "1990-01-01",
            "sex": "male",
        },
    )
    c.patch(f"/api/v1/patients/{world.patient_a.id}", json={"city": "Leeds"})
    (images / "p1" / "scalp.jpg").unlink()

    restore(world.db.engine, images, archive)
    assert _dump(world.db) == before
    assert (images / "p1" / "scalp.jpg").read_bytes() == b"\xff\xd8fake-jpeg"
    # The restored database keeps working, audit chain included.
    assert c.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200
    from mesoclinic.security import audit

    with world.db.factory() as s:
        assert audit.verify(s).ok


def test_cli_backup_and_restore(world, tmp_path, monkeypatch):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", world.db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    archive = tmp_path / "b.zip"
    r = runner.invoke(build_app(), ["backup", str(archive)])
    assert r.exit_code == 0, r.output
    assert zipfile.is_zipfile(archive)
    r = runner.invoke(build_app(), ["restore", str(archive), "--yes"])
    assert r.exit_code == 0, r.output
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    r = runner.invoke(build_app(), ["restore", str(bad), "--yes"])
    assert r.exit_code != 0 and "cannot restore" in r.output
    r = runner.invoke(build_app(), ["restore", str(tmp_path / "missing.zip"), "--yes"])
    assert r.exit_code != 0


def test_round_trip_of_the_whole_demo_clinic(app, db, demo, tmp_path):
    assert demo.created  # `db` is this test's own copy of the demo clinic
    before = _dump(db)
    archive = tmp_path / "demo.zip"
    backup(db.engine, tmp_path / "images", archive)
    db.reset()
    restore(db.engine, tmp_path / "images", archive)
    assert _dump(db) == before
