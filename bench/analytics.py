"""Speed of the cohort analytics on a synthetic group of clinics.

    PYTHONPATH=src python bench/analytics.py --patients 10000 --measurements-per 20 \
        --database sqlite:////tmp/bench-analytics.sqlite
    PYTHONPATH=src python bench/analytics.py --patients 100000 --measurements-per 20 \
        --database postgresql://postgres@127.0.0.1:5432/bench_analytics
    ... --reuse   # time again on the data already there
    ... --rebuild-rows --reuse   # rebuild the derived analytics rows first (timed), then time

Builds (bulk inserts, not the services: this is load, not behaviour) 4 clinics, 2 cocktails
with a product each and 3 lots per product, and per patient an assessment, a plan (3 % of them
stopped), 4 sessions (a third of the patients with PRP, 4 % of sessions with an adverse event,
one lot at 12 %) and `--measurements-per` values: half density at a vertex site, half 60-second
comb counts, spread over 0-400 days after the first session. Then times each analytics read
as the group admin (every clinic) and as one clinic's clinician: the summary, a filtered
summary, the lots report, response by stage and a comparison (PRP against none). Each is
run three times; the median and the fastest are printed, in seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select

from mesoclinic import migrate
from mesoclinic.analytics import comparison, safety, service
from mesoclinic.analytics import rows as derived_rows
from mesoclinic.analytics.cohorts import CohortFilter
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import make_engine, make_sessionmaker, read_unit_of_work
from mesoclinic.formulary.models import Cocktail, Lot, Product
from mesoclinic.outcomes.models import Measurement, MeasurementSite
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import TreatmentPlan
from mesoclinic.security.actor import Actor, cli_actor
from mesoclinic.security.models import Clinic, User
from mesoclinic.security.roles import Role
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot

CHUNK = 5000
DAYS = (0, 45, 91, 135, 183, 230, 275, 320, 365, 400)
NOW = datetime.now(UTC)


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def build(engine: Engine, patients: int, per: int, seed: int = 13) -> None:
    """The synthetic group, inserted in chunks of CHUNK rows per statement."""
    rng = random.Random(seed)
    clinics = [
        {"id": uuid.uuid4(), "name": f"Bench clinic {i}", "timezone": "Europe/London"}
        for i in range(4)
    ]
    users = [
        {
            "id": uuid.uuid4(),
            "username": f"bench.dr{i}",
            "display_name": f"Dr Bench {i}",
            "password_hash": "x",
            "role": "clinician",
            "clinic_id": c["id"],
        }
        for i, c in enumerate(clinics)
    ]
    cocktails = [
        {"id": uuid.uuid4(), "name": f"Bench cocktail {n}", "total_volume_ml": 5.0} for n in "AB"
    ]
    products = [
        {
            "id": uuid.uuid4(),
            "name": f"Bench product {n}",
            "manufacturer": "Bench",
            "presentation": "5 mL",
            "cocktail_id": c["id"],
        }
        for n, c in zip("AB", cocktails, strict=True)
    ]
    lots = [
        {
            "id": uuid.uuid4(),
            "clinic_id": clinics[0]["id"],
            "product_id": p["id"],
            "batch_number": f"{p['name'][-1]}-{n}",
            "expires_on": date(2030, 1, 1),
            "quantity_received_ul": 10**9,
            "balance_ul": 10**9,
        }
        for p in products
        for n in range(3)
    ]
    with engine.begin() as conn:
        for model, rows in (
            (Clinic, clinics),
            (User, users),
            (Cocktail, cocktails),
            (Product, products),
            (Lot, lots),
        ):
            conn.execute(insert(_table(model)), rows)
    people = [(uuid.uuid4(), rng.randrange(4)) for _ in range(patients)]
    streams: list[tuple[Any, Callable[[], Iterator[dict[str, Any]]]]] = [
        (Patient, lambda: _patients(people, clinics, rng)),
        (Assessment, lambda: _assessments(people, clinics, rng)),
        (TreatmentPlan, lambda: _plans(people, clinics, rng)),
    ]
    for model, stream in streams:
        _insert(engine, model, stream())
    visits: list[dict[str, Any]] = []
    visit_lots: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for pid, c in people:
        start = NOW - timedelta(days=rng.uniform(30, 500))
        cocktail = rng.randrange(2)
        prp = rng.random() < 1 / 3
        for n in range(4):
            vid = uuid.uuid4()
            lot = lots[cocktail * 3 + rng.randrange(3)]
            visits.append(
                _visit(
                    vid,
                    pid,
                    clinics[c]["id"],
                    users[c]["id"],
                    start + timedelta(days=14 * n),
                    cocktails[cocktail]["id"],
                    prp and n == 2,
                )
            )
            visit_lots.append(
                {"id": uuid.uuid4(), "visit_id": vid, "lot_id": lot["id"], "volume_ul": 3000}
            )
            odds = 0.12 if lot["batch_number"] == "A-0" else 0.04
            events.append(
                {
                    "id": uuid.uuid4(),
                    "visit_id": vid,
                    "type": "redness" if rng.random() < odds else "none",
                }
            )
    _insert(engine, Visit, iter(visits))
    _insert(engine, VisitLot, iter(visit_lots))
    _insert(engine, AdverseEvent, iter(events))
    starts = {v["patient_id"]: v["performed_at"] for v in visits[::4]}
    sites = [
        {
            "id": uuid.uuid4(),
            "patient_id": pid,
            "location": "vertex",
            "label": "Vertex",
            "description": "",
        }
        for pid, _ in people
    ]
    _insert(engine, MeasurementSite, iter(sites))
    _insert(engine, Measurement, _measurements(sites, starts, per, rng))


def build_rows(engine: Engine) -> None:
    """The derived analytics rows of the bulk-loaded data (the services' writes keep them up to
    date; bulk inserts bypass them), as `mesoclinic analytics rebuild` builds them."""
    started, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        counts = derived_rows.rebuild(conn)
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    figures = ", ".join(f"{n:,} {table}" for table, n in counts.items())
    print(
        f"  derived rows: {figures} in {time.perf_counter() - started:.1f} s "
        f"(cpu here {time.process_time() - cpu:.1f} s; load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def _insert(engine: Engine, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    table = _table(model)
    started = time.perf_counter()
    count = 0
    with engine.begin() as conn:
        for batch in _chunks(rows):
            conn.execute(insert(table), batch)
            count += len(batch)
    print(
        f"  inserted {count:>9,} {table.name} in {time.perf_counter() - started:.1f} s", flush=True
    )


def _patients(
    people: list[tuple[uuid.UUID, int]], clinics: list[dict[str, Any]], rng: random.Random
) -> Iterator[dict[str, Any]]:
    for n, (pid, c) in enumerate(people):
        yield {
            "id": pid,
            "clinic_id": clinics[c]["id"],
            "record_number": f"B{n:07d}",
            "given_name": "Bench",
            "family_name": f"P{n}",
            "sex": rng.choice(("female", "male")),
            "birth_date": date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        }


def _assessments(
    people: list[tuple[uuid.UUID, int]], clinics: list[dict[str, Any]], rng: random.Random
) -> Iterator[dict[str, Any]]:
    for pid, c in people:
        yield {
            "id": uuid.uuid4(),
            "patient_id": pid,
            "clinic_id": clinics[c]["id"],
            "assessed_at": NOW - timedelta(days=520),
            "diagnosis": "androgenetic_alopecia",
            "icd10": "L64",
            "snomed": "87872006",
            "staging_scale": "norwood_hamilton",
            "staging_grade": rng.choice(("II", "III", "IV", "V")),
            "facts": {},
            "candidacy": "recommended",
            "decision": {},
            "rulebook_version": "bench",
        }


def _plans(
    people: list[tuple[uuid.UUID, int]], clinics: list[dict[str, Any]], rng: random.Random
) -> Iterator[dict[str, Any]]:
    for pid, c in people:
        yield {
            "id": uuid.uuid4(),
            "patient_id": pid,
            "clinic_id": clinics[c]["id"],
            "protocol_code": rng.choice(("standard-vitamin", "dutasteride")),
            "protocol_name": "bench",
            "start_date": date(2025, 1, 1),
            "status": "stopped" if rng.random() < 0.03 else "active",
        }


def _visit(
    vid: uuid.UUID,
    pid: uuid.UUID,
    clinic: uuid.UUID,
    who: uuid.UUID,
    at: datetime,
    cocktail: uuid.UUID,
    prp: bool,
) -> dict[str, Any]:
    return {
        "id": vid,
        "clinic_id": clinic,
        "patient_id": pid,
        "practitioner_id": who,
        "performed_at": at,
        "cocktail_id": cocktail,
        "technique": "nappage",
        "zones": ["vertex"],
        "depth_mm": 1.5,
        "points": 60,
        "volume_per_point_ml": 0.05,
        "total_volume_ml": 3.0,
        "needle_gauge": 30,
        "needle_length_mm": 4.0,
        "prp_given": prp,
        "status": "completed",
    }


def _measurements(
    sites: list[dict[str, Any]], starts: dict[uuid.UUID, datetime], per: int, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for site in sites:
        pid = site["patient_id"]
        base, comb = rng.uniform(100, 170), rng.uniform(30, 90)
        gain = rng.gauss(0.08, 0.06)
        for i in range(per):
            day = DAYS[(i // 2) % len(DAYS)] + rng.uniform(-5, 5) + 400 * (i // (2 * len(DAYS)))
            at = starts[pid] + timedelta(days=day, hours=-2 if day < 1 else 0)
            if at > NOW:
                continue
            grown = min(day / 183, 1.0) * gain
            density = i % 2 == 0
            yield {
                "id": uuid.uuid4(),
                "patient_id": pid,
                "site_id": site["id"] if density else None,
                "kind": "density_total" if density else "comb_count_60s",
                "value": round((base * (1 + grown)) if density else comb * (1 - grown), 1),
                "unit": "/cm2" if density else "{hairs}",
                "measured_at": at,
                "source": "device",
                "recorded_by": "bench",
                "status": "final",
            }


REPEAT = 3
SERVER_CPU: list[float] = []  # per run: CPU seconds of the PostgreSQL backend serving it


def _backend(session: Any) -> int | None:
    """The PostgreSQL backend's process id (the server runs on this machine), else None."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid: int = session.execute(select(func.pg_backend_pid())).scalar_one()
    return pid


def _server_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a local process so far (0 when unknown or unreadable)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(label: str, work: Callable[[], Any]) -> None:
    """Run `work` REPEAT times; print the median and fastest wall-clock time, the CPU time of
    the fastest run in this process (all of the work on SQLite) and in the PostgreSQL backend
    that served it (read from /proc: the server must run on this machine; parallel workers
    are not counted), and the load average, since the machine is shared."""
    runs = []
    for _ in range(REPEAT):
        started, cpu = time.perf_counter(), time.process_time()
        work()
        server = SERVER_CPU.pop() if SERVER_CPU else 0.0
        runs.append((time.perf_counter() - started, time.process_time() - cpu, server))
    fastest = min(runs)
    load = os.getloadavg()[0]
    print(
        f"  {label:<48} median {statistics.median(r[0] for r in runs):6.2f} s   fastest "
        f"{fastest[0]:6.2f} s   (cpu: here {fastest[1]:5.2f} s, server {fastest[2]:5.2f} s; "
        f"load {load:.1f})",
        flush=True,
    )


def measure(engine: Engine) -> None:
    factory = make_sessionmaker(engine)
    with factory() as s:
        clinic = s.execute(select(Clinic.id).where(Clinic.name == "Bench clinic 0")).scalar_one()
        counts = {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Patient, Visit, Measurement)
        }
    print(f"data: {counts}")
    group = cli_actor("bench")
    clinician = Actor(user_id=None, username="bench.dr0", role=Role.CLINICIAN, clinic_id=clinic)

    def run(work: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with read_unit_of_work(factory) as session:
                backend = _backend(session)
                before = _server_cpu(backend)
                try:
                    return work(session)
                finally:
                    SERVER_CPU.append(_server_cpu(backend) - before)

        return go

    no_prp, prp = CohortFilter(prp=False), CohortFilter(prp=True)
    for who, actor in (("group admin, 4 clinics", group), ("clinician, 1 clinic", clinician)):
        print(f"{who}:")
        timed("summary (every treated patient)", run(lambda s, a=actor: service.summary(s, a)))
        timed("summary (PRP only)", run(lambda s, a=actor: service.summary(s, a, filt=prp)))
        timed(
            "lots report (+ outcome by cocktail, protocol)",
            run(lambda s, a=actor: safety.lots(s, a)),
        )
        timed("response by stage", run(lambda s, a=actor: safety.by_stage(s, a)))
        timed(
            "comparison PRP vs none at 6 months (4 methods)",
            run(lambda s, a=actor: comparison.compare(s, a, a=(None, no_prp), b=(None, prp))),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--measurements-per", type=int, default=20)
    parser.add_argument("--database", default="sqlite:////tmp/bench-analytics.sqlite")
    parser.add_argument("--reuse", action="store_true", help="time the data already there")
    parser.add_argument("--build-only", action="store_true", help="build, then time nothing")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each read")
    parser.add_argument(
        "--rebuild-rows", action="store_true", help="rebuild the derived rows of data there"
    )
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    engine = make_engine(args.database)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        present = conn.execute(select(func.count()).select_from(_table(Patient))).scalar_one()
    if not args.reuse:
        if present:
            print(
                "the database already holds patients: give an empty one, or --reuse",
                file=sys.stderr,
            )
            return 2
        print(
            f"building {args.patients:,} patients x {args.measurements_per} measurements "
            f"on {engine.dialect.name}"
        )
        build(engine, args.patients, args.measurements_per)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        build_rows(engine)
    elif args.rebuild_rows:
        build_rows(engine)
    if not args.build_only:
        measure(engine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
