"""A full bulk export against a live Uvicorn server and a real `mesoclinic worker` process,
driven over HTTP as a Bulk Data client would: kick-off, status polling, download; the same
routes refused to everyone but the requester; and a referral imported with fhirpy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient

from fhir_records import add_record, referral

# A live server and a worker process see only committed data.
pytestmark = pytest.mark.committed

SRC = str(Path(__file__).resolve().parents[2] / "src")
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _worker(db: Any, data_dir: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": SRC,
            "MESOCLINIC_DATABASE_URL": db.url,
            "MESOCLINIC_DATA_DIR": str(data_dir),
            "MESOCLINIC_SECRET_KEY": "test-secret-" + "x" * 40,
            "MESOCLINIC_FHIR_EXPORT_BATCH": "1",  # one patient per page: progress to see
        }
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from mesoclinic.cli import main; main()", "worker"]
        + ["--poll-seconds", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _client(world: Any, persona: str, base: str) -> httpx.Client:
    return httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {world.tokens[persona]}"}, timeout=30
    )


def _outcome(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.json()["resourceType"] == "OperationOutcome"


def test_bulk_export_with_status_polling_and_a_real_worker(world, live_server):
    add_record(world.db.factory, world.patient_a.id)
    add_record(world.db.factory, world.other_patient_a.id, density=97.0)
    add_record(world.db.factory, world.patient_b.id)
    base = live_server.url
    clinician = _client(world, "clinician", base)
    r = clinician.get("/fhir/$export", headers=ASYNC, params={"_type": "Patient,Observation"})
    assert r.status_code == 202, r.text
    status_url = r.headers["Content-Location"]
    assert status_url.startswith(f"{base}/fhir/$export-status/")

    # Nobody but the requester sees the job, before or after it ran.
    _outcome(_client(world, "clinician_b", base).get(status_url), 404)
    _outcome(_client(world, "nurse", base).get(status_url), 404)
    _outcome(_client(world, "admin", base).delete(status_url), 404)
    _outcome(_client(world, "patient", base).get(status_url), 403)
    _outcome(httpx.get(status_url), 401)

    assert clinician.get(status_url).headers["X-Progress"] == "queued"
    worker = _worker(world.db, live_server.app.state.settings.data_dir)
    try:
        deadline, progress = time.monotonic() + 90, set()
        while True:
            r = clinician.get(status_url)
            if r.status_code == 200:
                break
            assert r.status_code == 202, r.text
            assert int(r.headers["Retry-After"]) > 0
            progress.add(r.headers["X-Progress"])
            assert time.monotonic() < deadline, f"the export did not finish: {progress}"
            time.sleep(0.2)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    manifest = r.json()
    assert manifest["requiresAccessToken"] is True, output
    assert {e["type"] for e in manifest["output"]} == {"Patient", "Observation"}
    resources: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["output"]:
        assert entry["url"].startswith(f"{base}/fhir/$export-file/")
        for persona in ("clinician_b", "nurse", "admin"):
            _outcome(_client(world, persona, base).get(entry["url"]), 404)
        r = clinician.get(entry["url"])
        assert r.status_code == 200
        lines = [json.loads(line) for line in r.text.splitlines()]
        assert len(lines) == entry["count"]
        resources[entry["type"]] = lines
    assert {p["id"] for p in resources["Patient"]} == {
        str(world.patient_a.id),
        str(world.other_patient_a.id),
    }
    for resource in resources["Patient"] + resources["Observation"]:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    densities = sorted(
        o["valueQuantity"]["value"]
        for o in resources["Observation"]
        if o["code"]["coding"][0]["code"] == "density_total"
    )
    assert densities == [97.0, 142.5]

    # The owner may delete the finished export; its files are then gone for them too.
    assert clinician.delete(status_url).status_code == 202
    _outcome(clinician.get(status_url), 404)
    _outcome(clinician.get(manifest["output"][0]["url"]), 404)


def test_group_export_is_scoped_to_the_clinic(world, live_server):
    base = live_server.url
    other = _client(world, "clinician_b", base)
    _outcome(other.get(f"/fhir/Group/{world.clinic_a.id}/$export", headers=ASYNC), 404)
    _outcome(_client(world, "patient", base).get("/fhir/$export", headers=ASYNC), 403)
    _outcome(_client(world, "clinician", base).get("/fhir/$export"), 400)
    r = _client(world, "admin", base).get(f"/fhir/Group/{world.clinic_b.id}/$export", headers=ASYNC)
    assert r.status_code == 202, r.text


def test_a_referral_imported_with_fhirpy(world, live_server):
    client = SyncFHIRClient(
        f"{live_server.url}/fhir",
        authorization=f"Bearer {world.tokens['clinician']}",
        extra_headers={"Content-Type": "application/fhir+json"},
    )
    first = client.execute(client.url, method="post", data=referral())
    assert first["type"] == "transaction-response"
    assert [e["response"]["status"] for e in first["entry"]] == ["201 Created"] * 4
    again = client.execute(client.url, method="post", data=referral())
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"] * 4
    patient_location = first["entry"][0]["response"]["location"]
    assert again["entry"][0]["response"]["location"] == patient_location
