"""`mesoclinic report PATIENT_ID --out FILE.pdf [--html FILE]`."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from outcomes.measure_data import density, make_site, when
from support import audit_entries

# The command opens its own connection: real commits.
pytestmark = pytest.mark.committed


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(build_app(), list(args))


def test_the_report_command_writes_this_patients_pdf_and_html_and_audits_it(cli, world, tmp_path):
    site = make_site(world)
    for days_ago, value in ((200, 142.5), (10, 163.7)):
        body = density(site["id"], value, measured_at=when(days_ago))
        r = world.client("clinician").post(
            f"/api/v1/patients/{world.patient_a.id}/measurements", json=body
        )
        assert r.status_code == 201, r.text
    pdf, html = tmp_path / "report.pdf", tmp_path / "report.html"
    r = cli("report", str(world.patient_a.id), "--out", str(pdf), "--html", str(html))
    assert r.exit_code == 0, r.output
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert world.patient_a.family_name in text and "142.5" in text and "163.7" in text
    assert world.other_patient_a.family_name not in text
    assert "163.7" in html.read_text() and "<svg" in html.read_text()
    entries = audit_entries(world.db, action="export", entity_type="progress_report")
    formats = {json.loads(e.detail)["format"] for e in entries if e.actor_username == "cli"}
    assert formats == {"pdf", "html"}


@pytest.mark.parametrize("patient", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_bad_or_unknown_patient_writes_nothing(cli, world, tmp_path, patient):
    out = tmp_path / "x.pdf"
    r = cli("report", patient, "--out", str(out))
    assert r.exit_code != 0
    assert "Traceback" not in r.output and (
        "not a patient id" in r.output or "not found" in r.output
    )
    assert not out.exists()
    assert not audit_entries(world.db, action="export", entity_type="progress_report")


def test_the_report_command_needs_a_file(cli, world):
    r = cli("report", str(world.patient_a.id))
    assert r.exit_code == 2 and "--out" in r.output
