"""`mesoclinic export fhir PATIENT_ID --out FILE.json`: the $everything Bundle in a file."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from typer.testing import CliRunner

from fhir_data import allergy, densities
from mesoclinic.cli import build_app
from support import audit_entries

pytestmark = pytest.mark.committed  # the command opens its own connection


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(build_app(), list(args))


def test_export_fhir_writes_the_patients_bundle_and_audits_it(cli, world, tmp_path):
    allergy(world, world.patient_a)
    (made,) = densities(world, world.patient_a, [131.5])
    densities(world, world.other_patient_a, [99.0])
    out = tmp_path / "record.json"
    r = cli("export", "fhir", str(world.patient_a.id), "--out", str(out))
    assert r.exit_code == 0, r.output
    bundle = json.loads(out.read_text())
    get_fhir_model_class("Bundle").model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    assert resources[0] == {
        **resources[0],
        "resourceType": "Patient",
        "id": str(world.patient_a.id),
    }
    observations = [x for x in resources if x["resourceType"] == "Observation"]
    assert [o["id"] for o in observations] == [made["id"]]
    assert bundle["total"] == len(resources)
    (entry,) = audit_entries(world.db, action="export", entity_type="patient")
    assert json.loads(entry.detail)["format"] == "fhir"


@pytest.mark.parametrize("patient", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_a_bad_or_unknown_patient_writes_nothing(cli, world, tmp_path, patient):
    out = tmp_path / "x.json"
    r = cli("export", "fhir", patient, "--out", str(out))
    assert r.exit_code != 0
    assert "Traceback" not in r.output
    assert "not a patient id" in r.output or "not found" in r.output
    assert not out.exists()
