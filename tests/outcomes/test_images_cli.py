"""`mesoclinic images import` and `sweep`: a transaction per file, bad files skipped, order kept."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from image_support import files_on_disk, image_bytes, row_counts
from mesoclinic.cli import build_app
from mesoclinic.outcomes import imagestore

# CLI commands and worker processes open their own connections: real commits.
pytestmark = pytest.mark.committed


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    return lambda *args: runner.invoke(build_app(), list(args))


def test_import_stores_good_files_reports_bad_ones_and_exits_non_zero(cli, world, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "01-vertex.jpg").write_bytes(image_bytes())
    (folder / "02-broken.jpg").write_bytes(b"this is a text file")
    (folder / "03-vertex.png").write_bytes(image_bytes("PNG", (70, 50)))
    (folder / "04-vertex.tif").write_bytes(image_bytes("TIFF", (90, 40)))
    (folder / "readme.txt").write_text("not imported")
    r = cli("images", "import", str(world.patient_a.id), str(folder))
    assert r.exit_code == 1, r.output
    lines = [line for line in r.output.splitlines() if line.startswith(("ok", "failed"))]
    assert [line.split()[1].rstrip(":") for line in lines] == [
        "01-vertex.jpg",
        "02-broken.jpg",
        "03-vertex.png",
        "04-vertex.tif",
    ]
    assert lines[1].startswith("failed") and "not a JPEG, PNG or TIFF" in lines[1]
    assert "3 of 4 stored" in r.output
    assert row_counts(world.db) == (3, 3)
    assert len(files_on_disk(tmp_path / "data" / "images")) == 6  # 3 blobs, 3 thumbnails


def test_import_of_a_clean_folder_exits_zero_and_twice_stores_once(cli, world, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(image_bytes())
    assert cli("images", "import", str(world.patient_a.id), str(folder)).exit_code == 0
    again = cli("images", "import", str(world.patient_a.id), str(folder))
    assert again.exit_code == 0 and "already stored" in again.output
    assert row_counts(world.db) == (1, 1)


def test_photo_import_without_consent_fails_every_file(cli, world, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(image_bytes())
    r = cli(
        "images",
        "import",
        str(world.patient_a.id),
        str(folder),
        "--kind",
        "photo",
        "--view",
        "vertex",
    )
    assert r.exit_code == 1 and "photo consent" in r.output
    assert row_counts(world.db) == (0, 0)


def test_sweep_removes_old_files_without_a_row_only(cli, world, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(image_bytes())
    cli("images", "import", str(world.patient_a.id), str(folder))
    images_dir = tmp_path / "data" / "images"
    kept = files_on_disk(images_dir)
    orphan = imagestore.prepare(image_bytes("PNG"), max_bytes=10**7, max_pixels=10**7)
    imagestore.save(images_dir, orphan)
    old = time.time() - 7200
    for path in files_on_disk(images_dir):
        os.utime(path, (old, old))
    r = cli("images", "sweep")
    assert r.exit_code == 0 and "2 orphaned files" in r.output
    assert files_on_disk(images_dir) == kept
