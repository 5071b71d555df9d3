"""The pure pieces of bulk export and import, without a database: NDJSON files, `_type`,
FHIRPath expressions, the rater line of an Observation, and an export read back as a Bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mesoclinic.errors import InvalidInput
from mesoclinic.fhir.bulk import parse_types
from mesoclinic.fhir.bulk_ndjson import NdjsonWriter, read_ndjson
from mesoclinic.fhir.importer_parse import _rating, parse_bundle, transaction_bundle
from mesoclinic.fhir.importer_read import fhirpath
from mesoclinic.fhir.importer_records import BundleRefused

TYPES = ("Patient", "Condition", "Observation")


def test_ndjson_files_appear_only_when_finished(tmp_path: Path):
    folder = tmp_path / "job"
    with NdjsonWriter(folder) as writer:
        writer.write({"resourceType": "Patient", "id": "1", "name": [{"family": "Ünal"}]})
        writer.write({"resourceType": "Observation", "id": "2"})
        writer.write({"resourceType": "Patient", "id": "3"})
        assert not folder.exists()
        output = writer.finish(TYPES)
    assert output == [
        {"type": "Patient", "file": "Patient.ndjson", "count": 2},
        {"type": "Observation", "file": "Observation.ndjson", "count": 1},
    ]
    lines = (folder / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["1", "3"] and "Ünal" in lines[0]
    assert read_ndjson(folder / "Observation.ndjson") == [
        {"resourceType": "Observation", "id": "2"}
    ]
    assert not (tmp_path / "job.part").exists()


def test_a_failed_export_leaves_no_files(tmp_path: Path):
    folder = tmp_path / "job"
    with pytest.raises(RuntimeError), NdjsonWriter(folder) as writer:
        writer.write({"resourceType": "Patient", "id": "1"})
        raise RuntimeError("the database went away")
    assert list(tmp_path.iterdir()) == []


def test_type_parameter():
    assert parse_types(None, TYPES) == TYPES
    assert parse_types(" Observation,Patient,Observation ", TYPES) == ("Observation", "Patient")
    with pytest.raises(InvalidInput, match="Claim"):
        parse_types("Patient,Claim", TYPES)


def test_fhirpath_of_an_error_location():
    prefix = "Bundle.entry[2].resource"
    assert fhirpath(prefix, ("valueQuantity", "unit")) == f"{prefix}.valueQuantity.unit"
    assert fhirpath(prefix, ("code", "coding", 1, "code")) == f"{prefix}.code.coding[1].code"


def test_the_rater_line_is_read_back_from_the_notes():
    assert _rating("Rated by Dr Ines Roca (blinded)\nclear photo") == (
        "clear photo",
        "Dr Ines Roca",
        True,
    )
    assert _rating("Entered in error: wrong patient") == (None, None, None)
    assert _rating(None) == (None, None, None)


def test_an_export_read_back_is_a_bundle_whose_references_resolve():
    patient = {
        "resourceType": "Patient",
        "id": "4a3c2b1d-0000-4000-8000-000000000001",
        "name": [{"use": "official", "family": "Silva", "given": ["Ana"]}],
        "birthDate": "1985-04-12",
        "gender": "female",
    }
    condition = {
        "resourceType": "Condition",
        "id": "4a3c2b1d-0000-4000-8000-000000000002",
        "code": {"text": "Hypothyroidism"},
        "subject": {"reference": f"Patient/{patient['id']}"},
    }
    claim = {"resourceType": "Claim", "id": "x"}
    bundle = transaction_bundle([condition, claim, patient])
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "Condition"]
    assert bundle["entry"][0]["fullUrl"] == f"urn:uuid:{patient['id']}"
    parsed = parse_bundle(bundle)
    assert parsed.conditions[0].patient_ref == f"Patient/{patient['id']}"
    assert parsed.patients[0].family_name == "Silva"
    del patient["birthDate"]
    with pytest.raises(BundleRefused) as refused:
        parse_bundle(transaction_bundle([patient]))
    assert [i.expression for i in refused.value.issues] == ["Bundle.entry[0].resource.birthDate"]
