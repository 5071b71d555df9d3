"""The export job in-process: kick-off through the API, one worker pass, the files and their
manifest; _type and _since; cancel; a job taken over after its worker died."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select

from fhir_records import add_record
from mesoclinic.db import unit_of_work
from mesoclinic.fhir import bulk, bulk_worker
from mesoclinic.fhir.bulk_models import BulkExportJob, ExportStatus
from mesoclinic.security.models import AuditEntry

# The worker pass opens its own sessions and reads in its own transaction: real commits.
pytestmark = pytest.mark.committed
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _kick_off(client: Any, url: str = "/fhir/$export") -> str:
    r = client.get(url, headers=ASYNC)
    assert r.status_code == 202, r.text
    location = r.headers["Content-Location"]
    assert "/fhir/$export-status/" in location
    return _path(location)


def _path(url: str) -> str:
    """The path of an absolute URL (the test client talks to the app directly)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _work(world: Any) -> str:
    return bulk_worker.run_pending(world.db.factory, world.app.state.settings)


def _files(client: Any, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for entry in manifest["output"]:
        r = client.get(_path(entry["url"]))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/fhir+ndjson")
        lines = [json.loads(line) for line in r.text.splitlines() if line]
        assert len(lines) == entry["count"]
        out[entry["type"]] = lines
    return out


def test_export_of_a_clinic_writes_every_resource_once_and_validates(world):
    add_record(world.db.factory, world.patient_a.id)
    add_record(world.db.factory, world.patient_b.id)  # clinic B: must not appear
    clinician = world.client("clinician")
    status_url = _kick_off(clinician)
    r = clinician.get(status_url)
    assert r.status_code == 202 and r.headers["X-Progress"] == "queued"
    assert "exports written 1" in _work(world)
    r = clinician.get(status_url)
    assert r.status_code == 200, r.text
    manifest = r.json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/$export")
    files = _files(clinician, manifest)
    patients = {p["id"] for p in files["Patient"]}
    assert patients == {str(world.patient_a.id), str(world.other_patient_a.id)}
    for resources in files.values():
        for resource in resources:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            subject = resource.get("subject") or resource.get("patient")
            if subject:
                assert subject["reference"] == f"Patient/{world.patient_a.id}"
    assert len(files["Condition"]) == 2 and len(files["AllergyIntolerance"]) == 1
    assert len(files["Observation"]) == 3  # pregnancy status and two measurements
    with world.db.factory() as s:
        entries = (
            s.execute(select(AuditEntry).where(AuditEntry.entity_type.like("fhir_bulk%")))
            .scalars()
            .all()
        )
    exports = [e for e in entries if e.action == "export"]
    assert len(exports) == 1 and json.loads(exports[0].detail)["patients"] == 2
    assert json.loads(exports[0].detail)["types"]["Observation"] == 3
    assert len([e for e in entries if e.action == "read"]) == len(files)


def test_type_and_since_narrow_the_export(world):
    add_record(world.db.factory, world.patient_a.id)
    clinician = world.client("clinician")
    status_url = _kick_off(clinician, "/fhir/$export?_type=Patient,Observation")
    _work(world)
    files = _files(clinician, clinician.get(status_url).json())
    assert set(files) == {"Patient", "Observation"}
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status_url = _kick_off(clinician, f"/fhir/$export?_since={later}")
    _work(world)
    assert clinician.get(status_url).json()["output"] == []


def test_unknown_type_bad_since_and_missing_prefer_are_refused(world):
    clinician = world.client("clinician")
    r = clinician.get("/fhir/$export")
    assert r.status_code == 400 and "respond-async" in r.text
    r = clinician.get("/fhir/$export?_type=Patient,Claim", headers=ASYNC)
    assert r.status_code == 422 and "Claim" in r.text
    r = clinician.get("/fhir/$export?_since=yesterday", headers=ASYNC)
    assert r.status_code == 400 and "_since" in r.text
    with world.db.factory() as s:
        assert s.execute(select(BulkExportJob)).first() is None


def test_cancel_stops_the_job_and_the_status_url_is_gone(world):
    clinician = world.client("clinician")
    status_url = _kick_off(clinician)
    assert clinician.delete(status_url).status_code == 202
    assert clinician.get(status_url).status_code == 404
    assert _work(world) == ""  # nothing left to claim


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(world, tmp_path):
    clinician = world.client("clinician")
    status_url = _kick_off(clinician)
    job_id = uuid.UUID(status_url.rsplit("/", 1)[1])
    lease = timedelta(seconds=30)
    held = bulk.claim(world.db.factory, "dead-worker", lease)
    assert held is not None and held.job_id == job_id
    assert bulk.claim(world.db.factory, "other", lease) is None  # still leased
    later = datetime.now(UTC) + timedelta(minutes=1)
    again = bulk.claim(world.db.factory, "other", lease, now=later)
    assert again is not None and again.attempts == 2
    assert not bulk.heartbeat(world.db.factory, held, lease, done=1, total=2)  # lost its claim
    with unit_of_work(world.db.factory) as s:
        assert s.get(BulkExportJob, job_id).status is ExportStatus.RUNNING


def test_patient_and_group_kick_offs_export_the_clinic(world):
    add_record(world.db.factory, world.patient_a.id)
    clinician = world.client("clinician")
    for url in ("/fhir/Patient/$export", f"/fhir/Group/{world.clinic_a.id}/$export"):
        status_url = _kick_off(clinician, f"{url}?_type=Patient")
        _work(world)
        files = _files(clinician, clinician.get(status_url).json())
        assert {p["id"] for p in files["Patient"]} == {
            str(world.patient_a.id),
            str(world.other_patient_a.id),
        }
    r = world.client("admin").get(f"/fhir/Group/{world.clinic_b.id}/$export", headers=ASYNC)
    assert r.status_code == 202
    _work(world)
    r = world.client("admin").get(_path(r.headers["Content-Location"]))
    admin_files = _files(world.client("admin"), r.json())
    assert {p["id"] for p in admin_files["Patient"]} == {str(world.patient_b.id)}
