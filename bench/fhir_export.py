"""Bulk export speed and memory: N synthetic patients, one `$export` job, resources/s and peak.

Builds N patients in a fresh database with bulk inserts (each with two history conditions, an
allergy, a medicine, a pregnancy status, a marked site and three measurements: 9 resources per
patient), queues one system-level export for a clinician and runs it with the worker's own
code (`bulk_worker.run_pending`), in a child process so that its peak resident memory
(ru_maxrss) is the export's alone. With --trace the child also reports tracemalloc's peak of
Python allocations (slower). Bounded memory shows as the same peak for 10,000 and 100,000
patients.

    PYTHONPATH=src python bench/fhir_export.py [--patients 10000] [--database-url URL]
        [--batch 500] [--trace]

Without --database-url a SQLite file in a temporary folder is used; for PostgreSQL pass an empty
database's URL (its tables are created by the migrations; nothing else may be in it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from mesoclinic import migrate
from mesoclinic.config import Settings
from mesoclinic.db import RecordStatus, make_engine, make_sessionmaker, unit_of_work
from mesoclinic.fhir import bulk, bulk_export, bulk_worker
from mesoclinic.fhir.bulk_models import BulkExportJob, ExportLevel
from mesoclinic.outcomes.models import Measurement, MeasurementSite
from mesoclinic.patients.models import Allergy, Condition, Medication, Patient, PregnancyStatus
from mesoclinic.security.models import Clinic, User
from mesoclinic.security.service import actor_for

CHUNK = 2000
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _rows(clinic_id: uuid.UUID, start: int, count: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("patients", "conditions", "allergies", "meds", "preg", "sites", "meas")
    }
    for n in range(start, start + count):
        pid, site = uuid.uuid4(), uuid.uuid4()
        out["patients"].append(
            {
                "id": pid,
                "clinic_id": clinic_id,
                "record_number": f"MC-{n + 1:06d}",
                "given_name": f"Given{n}",
                "family_name": f"Family{n % 997}",
                "birth_date": date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                "sex": ("female", "male")[n % 2],
                "phone": f"+44 20 7946 {n % 10000:04d}",
                "email": f"patient{n}@example.org",
                "status": RecordStatus.ACTIVE,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        history = {"patient_id": pid, "recorded_at": NOW, "recorded_by": "bench"}
        out["conditions"] += [
            {"id": uuid.uuid4(), "name": "Hypothyroidism", "kind": "thyroid", **history},
            {"id": uuid.uuid4(), "name": "Iron deficiency", "kind": "iron_deficiency", **history},
        ]
        out["allergies"].append(
            {"id": uuid.uuid4(), "substance": "Lidocaine", "severity": "moderate", **history}
        )
        out["meds"].append(
            {"id": uuid.uuid4(), "name": "Levothyroxine", "category": "other", **history}
        )
        out["preg"].append({"id": uuid.uuid4(), "value": "not_pregnant", **history})
        out["sites"].append(
            {
                "id": site,
                "patient_id": pid,
                "location": "vertex",
                "label": "Vertex",
                "description": "",
                "clipped": False,
                "status": RecordStatus.ACTIVE,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        for k, (kind, value, unit) in enumerate(
            (("density_total", 140.0 + n % 40, "/cm2"), ("mean_shaft_diameter", 60.0, "um"))
            + (("density_terminal", 100.0 + n % 30, "/cm2"),)
        ):
            out["meas"].append(
                {
                    "id": uuid.uuid4(),
                    "patient_id": pid,
                    "site_id": site,
                    "kind": kind,
                    "value": value,
                    "unit": unit,
                    "measured_at": NOW - timedelta(days=k),
                    "source": "manual",
                    "recorded_by": "bench",
                    "status": "final",
                    "created_at": NOW,
                }
            )
    return out


TABLES = {
    "patients": Patient,
    "conditions": Condition,
    "allergies": Allergy,
    "meds": Medication,
    "preg": PregnancyStatus,
    "sites": MeasurementSite,
    "meas": Measurement,
}


def build(url: str, patients: int) -> uuid.UUID:
    """The synthetic clinic, its clinician and the queued export job (its id)."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        clinic = Clinic(name=f"Bench clinic {uuid.uuid4().hex[:6]}", record_seq=patients)
        s.add(clinic)
        s.flush()
        user = User(
            username=f"bench.{clinic.id.hex[:6]}",
            display_name="Bench Clinician",
            role="clinician",
            password_hash="-",
            clinic_id=clinic.id,
        )
        s.add(user)
        s.flush()
        clinic_id = clinic.id
    started = time.perf_counter()
    for start in range(0, patients, CHUNK):
        rows = _rows(clinic_id, start, min(CHUNK, patients - start))
        with unit_of_work(factory) as s:
            for name, model in TABLES.items():
                s.execute(insert(model), rows[name])
    print(f"built {patients} patients in {time.perf_counter() - started:.1f} s")
    with unit_of_work(factory) as s:
        user = s.execute(select(User).where(User.clinic_id == clinic_id)).scalar_one()
        request = bulk.ExportRequest(
            ExportLevel.SYSTEM, bulk_export.SUPPORTED_TYPES, None, "bench:/fhir/$export"
        )
        job_id = bulk.kick_off(s, actor_for(user, "bench"), request).id
    engine.dispose()
    return job_id


def export(url: str, data_dir: Path, batch: int, trace: bool) -> dict[str, Any]:
    """Run the queued export as the worker does; figures of this process."""
    os.environ[bulk_worker.BATCH_ENV] = str(batch)
    settings = Settings(database_url=url, data_dir=data_dir, secret_key="x" * 40)
    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    report = bulk_worker.run_pending(factory, settings)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    with factory() as s:
        job = s.execute(select(BulkExportJob)).scalars().one()
        output, patients = job.output, job.patients_done
    resources = sum(entry["count"] for entry in output)
    size = sum(
        (bulk.export_folder(data_dir, job.id) / entry["file"]).stat().st_size for entry in output
    )
    return {
        "report": report,
        "patients": patients,
        "resources": resources,
        "seconds": round(seconds, 1),
        "resources_per_s": round(resources / seconds),
        "ndjson_mb": round(size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "tracemalloc_peak_mb": round(traced / 1e6, 1) if traced is not None else None,
        "types": {entry["type"]: entry["count"] for entry in output},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch", type=int, default=bulk_export.BATCH_SIZE)
    parser.add_argument("--trace", action="store_true", help="also report tracemalloc's peak")
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        figures = export(args.database_url, Path(args.data_dir), args.batch, args.trace)
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory(prefix="fhir-bench-") as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        build(url, args.patients)
        command = [sys.executable, __file__, "--export-only", "--database-url", url]
        command += ["--data-dir", folder, "--batch", str(args.batch)]
        command += ["--trace"] if args.trace else []
        load_before = os.getloadavg()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        load_after = os.getloadavg()
    database = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{database}, {figures['patients']} patients, batch {args.batch}: {figures['report']}")
    print(
        f"{figures['resources']} resources in {figures['seconds']} s = "
        f"{figures['resources_per_s']} resources/s; NDJSON {figures['ndjson_mb']} MB"
    )
    print(f"peak RSS of the export process {figures['peak_rss_mb']} MB", end="")
    if figures["tracemalloc_peak_mb"] is not None:
        print(f"; tracemalloc peak {figures['tracemalloc_peak_mb']} MB", end="")
    print()
    print("per type:", figures["types"])
    print(
        f"load average (1, 5, 15 min) before the export {tuple(round(x, 1) for x in load_before)}, "
        f"after {tuple(round(x, 1) for x in load_after)}; {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
