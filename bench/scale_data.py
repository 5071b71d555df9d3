"""Build a realistic clinic group of 1k to 100k patients for load measurements, quickly.

The demo clinic is created first through the services (staff, formulary, protocols, ~30 patients
with every area's records); its rows are then the templates of the bulk part: each generated
patient gets a copy of a real demo assessment (facts, decision, rulebook version), a signed
mesotherapy consent, a treatment plan with six sessions, six appointments with their booking
slots (practitioner and room, five-minute slots, so the unique keys that stop double bookings
hold), three visits with lot usage (visit_lots and `used` stock movements on a bench lot per
product and clinic, balances kept consistent), declared aftercare events, reminder emails and
density measurements for some. Rows go in with SQLAlchemy Core executemany in batches on SQLite,
and with a binary COPY per table and chunk on PostgreSQL, whose bulk tables' foreign keys and
plain indexes are dropped for the load and made again at its end, in the same transaction (one
check of every row per constraint instead of one trigger per row). Either way the database
checks every foreign key, unique key and check constraint. 100k patients on PostgreSQL: about
11 minutes on the shared 2-core machine (docs/performance.md, "Data generator").

    PYTHONPATH=src python bench/scale_data.py --patients 10000 --clinics 2 \\
        --database sqlite:////tmp/mc-10k.db [--data-dir /tmp/mc-10k]
    PYTHONPATH=src python bench/scale_data.py --patients 100000 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/mc_100k [--on-demo]

Logins: the demo staff (`dr.moreau`, `admin`... password `mesoclinic-demo`); one JSON line of
figures (rows per table, seconds) is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, func, insert, select, text, update

from mesoclinic import migrate
from mesoclinic.config import Settings
from mesoclinic.db import make_engine, make_sessionmaker, unit_of_work
from mesoclinic.demo.seed import MAIN_CLINIC, create_demo, is_empty
from mesoclinic.models_registry import metadata
from mesoclinic.patients import search_keys
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.service import create_clinic

SIZES = (1000, 3000, 10000, 100000)
BATCH = 2000
COPY_BATCH = 20000  # rows per COPY statement on PostgreSQL
NUMERIC_OID = 1700  # PostgreSQL's numeric: a binary COPY takes Decimal, not float
SLOT_MINUTES = 5
APPOINTMENT_MINUTES = 30
SESSION_GAP_DAYS = 21
# Working-day appointment times of one practitioner/room pair: 09:00 to 17:30, every 30 minutes.
DAY_STARTS = [timedelta(hours=9, minutes=30 * i) for i in range(18)]

GIVEN = (
    "Olivia Amelia Isla Ava Mia Sophia Grace Lily Freya Emily Ivy Ella Rosie Evie Florence "
    "Poppy Charlotte Willow Harper Sienna Oliver George Noah Arthur Leo Muhammad Harry Oscar "
    "Archie Henry Theodore Freddie Jack Charlie Thomas Lucas Alfie Jacob Isaac William Hugo "
    "Lucia Sofia Martina Maria Julia Paula Valeria Emma Daniela Carla Alba Noa Sara Carmen "
    "Hugo Mateo Martin Pablo Alejandro Daniel Alvaro Adrian Manuel Enzo Mario Diego David "
    "Javier Marco Antonio Ines Claire Aisha Fatima Priya Anjali Rohan Arjun Wei Mei Yuki Kenji"
).split()
FAMILY = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson "
    "Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner "
    "Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris "
    "Khan Scott Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey "
    "Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Marshall Simpson "
    "Garcia Rodriguez Gonzalez Fernandez Lopez Martinez Sanchez Perez Gomez Martin Jimenez "
    "Ruiz Hernandez Diaz Moreno Munoz Alvarez Romero Alonso Gutierrez Navarro Torres Dominguez "
    "Vazquez Ramos Gil Ramirez Serrano Blanco Molina Morales Suarez Ortega Delgado Castro "
    "Ortiz Rubio Marin Sanz Nunez Iglesias Medina Garrido Cortes Castillo Santos Lozano Guerrero "
    "Cano Prieto Mendez Cruz Calvo Gallego Vidal Leon Marquez Herrera Pena Flores Cabrera "
    "Campos Vega Fuentes Carrasco Diez Caballero Reyes Nieto Aguilar Pascual Santana Herrero "
    "Nguyen Tran Chen Wang Li Zhang Liu Yamamoto Tanaka Kowalski Novak Horvat Muller Schmidt"
).split()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--patients", type=int, default=1000, help="e.g. 1000, 10000, 100000")
    parser.add_argument("--clinics", type=int, default=2, help="clinics in the group (>= 2)")
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of an EMPTY database")
    parser.add_argument("--data-dir", type=Path, default=None, help="images and keys (tmp)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--on-demo",
        action="store_true",
        help="the database already holds the demo clinic and nothing else (e.g. a copy of one "
        "made with `createdb -T`): skip building it",
    )
    args = parser.parse_args(argv)
    if args.clinics < 2:
        parser.error("--clinics must be 2 or more")
    if args.patients < 1:
        parser.error("--patients must be 1 or more")
    return args


class Writer:
    """Batched inserts: Core executemany, or COPY on PostgreSQL for the big tables."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.batch = BATCH if conn.dialect.name != "postgresql" else COPY_BATCH
        self._plans: dict[str, list[tuple[str, Any, bool, bool]]] = {}
        self._types: dict[str, list[int]] = {}

    def add(self, table: str, row: dict[str, Any]) -> None:
        rows = self.pending[table]
        rows.append(row)
        if len(rows) >= self.batch:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        # Parents before children: flush in the metadata's dependency order.
        names = [table] if table else [t.name for t in metadata.sorted_tables]
        for name in names:
            rows = self.pending.pop(name, [])
            if rows:
                if table is not None:
                    self._flush_parents(name)
                started = time.perf_counter()
                if self.conn.dialect.name == "postgresql":
                    self._copy(metadata.tables[name], rows)
                else:
                    self.conn.execute(insert(metadata.tables[name]), rows)
                self.counts[name] += len(rows)
                self.seconds[name] += time.perf_counter() - started

    def _plan(self, table: Table) -> list[tuple[str, Any, bool, bool]]:
        """Per column: (name, default or a callable making it, callable?, numeric?), made once,
        with the column's type for a binary COPY."""
        if table.name not in self._plans:
            types = dict(
                self.conn.execute(
                    text(
                        "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = "
                        "CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
                    ),
                    {"t": table.name},
                ).all()
            )
            plan = []
            for column in table.columns:
                default, call = None, False
                if column.default is not None and column.default.is_callable:
                    default, call = column.default.arg, True
                elif column.default is not None and column.default.is_scalar:
                    default = column.default.arg
                plan.append((column.name, default, call, types[column.name] == NUMERIC_OID))
            self._plans[table.name] = plan
            self._types[table.name] = [types[column.name] for column in table.columns]
        return self._plans[table.name]

    def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """COPY the rows (binary), with the Python-side column defaults Core would have applied."""
        plan = self._plan(table)
        names = ", ".join(f'"{name}"' for name, *_ in plan)
        raw = self.conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy,
        ):
            copy.set_types(self._types[table.name])
            write = copy.write_row
            for row in rows:
                write([_value(row, *column) for column in plan])

    def _flush_parents(self, name: str) -> None:
        table = metadata.tables[name]
        parents = {fk.column.table.name for fk in table.foreign_keys} - {name}
        for parent in parents:
            if self.pending.get(parent):
                self.flush(parent)


# Tables the bulk part fills: on PostgreSQL their foreign keys and plain (non-unique) indexes
# are dropped before the load and made again after it, in the same transaction. Adding a
# foreign key checks every row in one join instead of one trigger query per row, so every
# constraint still holds (the transaction fails otherwise); primary and unique keys stay in
# place throughout.
BULK_TABLES = (
    "patients",
    "assessments",
    "consents",
    "treatment_plans",
    "plan_sessions",
    "appointments",
    "booking_slots",
    "visits",
    "visit_lots",
    "stock_movements",
    "measurements",
    "declared_events",
)


@contextmanager
def constraints_after_load(conn: Connection) -> Iterator[dict[str, float]]:
    """PostgreSQL: drop the bulk tables' foreign keys and plain indexes, load, make them again.

    Yields a dict that gets the seconds spent re-creating them."""
    figures: dict[str, float] = {}
    if conn.dialect.name != "postgresql":
        yield figures
        return
    tables = list(BULK_TABLES)
    foreign_keys = conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(:t) "
            "ORDER BY 1, 2"
        ),
        {"t": tables},
    ).all()
    indexes = conn.execute(
        text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(:t) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY 1"
        ),
        {"t": tables},
    ).all()
    for table, name, _ in foreign_keys:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    yield figures
    started = time.perf_counter()
    for _, definition in indexes:
        conn.execute(text(definition))
    figures["indexes_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    for table, name, definition in foreign_keys:
        conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
    figures["foreign_keys_seconds"] = round(time.perf_counter() - started, 1)


def _value(row: dict[str, Any], name: str, default: Any, call: bool, numeric: bool) -> Any:
    if name in row:
        value = row[name]
    elif call:
        value = default(None)
    else:
        value = default
    if numeric and value is not None and not isinstance(value, Decimal):
        return Decimal(str(value))
    return value  # JSON values go as Python objects: the binary COPY's JSON dumper encodes them


def _templates(conn: Connection, table: str, **where: Any) -> list[dict[str, Any]]:
    t: Table = metadata.tables[table]
    stmt = select(t)
    for column, value in where.items():
        stmt = stmt.where(t.c[column] == value)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _has_bench_data(conn: Connection) -> bool:
    audit = metadata.tables["audit_log"]
    found = conn.execute(select(audit.c.id).where(audit.c.entity_type == "bench_data").limit(1))
    return found.first() is not None


def _working_days(first: date, last: date, closed: set[int]) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() not in closed:
            days.append(day)
        day += timedelta(days=1)
    return days


class Diary:
    """Hands out non-overlapping 30-minute cells (practitioner/room pair, start) per clinic."""

    def __init__(self, pairs: int, tz: ZoneInfo) -> None:
        self.pairs = pairs
        self.tz = tz
        self.used: dict[date, int] = defaultdict(int)

    def take(self, wanted: date) -> tuple[int, datetime]:
        day = wanted
        while True:
            if day.weekday() < 5 and self.used[day] < self.pairs * len(DAY_STARTS):
                break
            day += timedelta(days=1)
        n = self.used[day]
        self.used[day] += 1
        pair, cell = divmod(n, len(DAY_STARTS))
        local = datetime.combine(day, datetime.min.time(), self.tz) + DAY_STARTS[cell]
        return pair, local.astimezone(UTC)


def _clinics(conn: Connection, wanted: int, settings: Settings) -> list[dict[str, Any]]:
    """The demo's two clinics plus more made with the clinic service (timezone Europe/London)."""
    factory = make_sessionmaker(conn.engine)
    existing = _templates(conn, "clinics")
    if len(existing) < wanted:
        with unit_of_work(factory) as session:
            for i in range(len(existing), wanted):
                create_clinic(session, cli_actor("bench"), name=f"Bench Clinic {i + 1}")
    return sorted(_templates(conn, "clinics"), key=lambda c: (c["name"] != MAIN_CLINIC, c["name"]))


def build(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(args.seed)
    data_dir = args.data_dir or Path(f"/tmp/mesoclinic-bench-{args.patients}")
    settings = Settings(database_url=args.database, data_dir=data_dir, environment="development")
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        if args.on_demo:
            if is_empty(session) or _has_bench_data(session.connection()):
                raise SystemExit("--on-demo needs a database holding the demo clinic only")
        elif not is_empty(session):
            raise SystemExit("the database is not empty: give scale_data.py a new one")
        else:
            create_demo(session, settings)
    demo_seconds = time.perf_counter() - started
    with engine.connect() as conn:
        clinics = _clinics(conn, args.clinics, settings)
    bulk_started = time.perf_counter()
    with engine.begin() as conn, constraints_after_load(conn) as constraint_figures:
        counts = _generate(conn, args, rng, clinics)
    bulk_seconds = time.perf_counter() - bulk_started
    # Fresh statistics, as a live database's autovacuum would keep them: without them the
    # planner takes the bulk-loaded tables for empty (one dashboard query 2.6 s instead of
    # 58 ms at 10k) and every figure measured on the group is the planner's, not the app's.
    analyze_started = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    return {
        "patients": args.patients,
        "clinics": args.clinics,
        "database": engine.dialect.name,
        "demo_seconds": round(demo_seconds, 1),
        "bulk_seconds": round(bulk_seconds, 1),
        "analyze_seconds": round(time.perf_counter() - analyze_started, 1),
        **constraint_figures,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": dict(sorted(counts.items())),
    }


def _staff(w: Writer, clinic: dict[str, Any], pairs: int, template: dict[str, Any]) -> list[Any]:
    """Practitioners for the clinic's diary: users sharing the demo clinician's password."""
    ids = []
    for k in range(pairs):
        user_id = uuid.uuid4()
        ids.append(user_id)
        w.add(
            "users",
            {
                **template,
                "id": user_id,
                "username": f"bench.{str(clinic['id'])[:8]}.{k + 1}",
                "display_name": f"Practitioner {k + 1}",
                "email": None,
                "role": "nurse" if k % 2 else "clinician",
                "clinic_id": clinic["id"],
                "patient_id": None,
                "last_login_at": None,
            },
        )
    return ids


def _generate(
    conn: Connection, args: argparse.Namespace, rng: random.Random, clinics: list[dict[str, Any]]
) -> dict[str, int]:
    w = Writer(conn)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    assessments = [a for a in _templates(conn, "assessments") if a["status"] == "active"]
    plans = _templates(conn, "treatment_plans")
    visit_template = _templates(conn, "visits")[0]
    clinician = next(u for u in _templates(conn, "users") if u["role"] == "clinician")
    form = next(f for f in _templates(conn, "consent_forms") if f["procedure"] == "mesotherapy")
    products = _templates(conn, "products")
    cocktail_of = {p["id"]: p["cocktail_id"] for p in products}
    span_days = 3 * 365
    per_clinic = math.ceil(args.patients / len(clinics))
    # Enough practitioner/room pairs that a clinic's appointments fit its working days.
    pairs = max(2, math.ceil(per_clinic * 6 / (span_days * 5 / 7 * len(DAY_STARTS)) * 1.5))
    bench_lots: dict[Any, list[dict[str, Any]]] = {}
    diaries, practitioners = {}, {}
    for clinic in clinics:
        tz = ZoneInfo(clinic["timezone"] or "Europe/London")
        diaries[clinic["id"]] = Diary(pairs, tz)
        practitioners[clinic["id"]] = _staff(w, clinic, pairs, clinician)
        if not _templates(conn, "clinic_schedules", clinic_id=clinic["id"]):
            w.add(
                "clinic_schedules",
                {
                    "id": uuid.uuid4(),
                    "clinic_id": clinic["id"],
                    "opening_weekdays": [0, 1, 2, 3, 4],
                    "opens_at_minute": 9 * 60,
                    "closes_at_minute": 19 * 60,
                    "rooms": ["Room 1", "Room 2"] + [f"Suite {k + 1}" for k in range(pairs)],
                    "updated_at": now,
                    "updated_by": "bench",
                },
            )
        bench_lots[clinic["id"]] = [
            {
                "id": uuid.uuid4(),
                "clinic_id": clinic["id"],
                "product_id": p["id"],
                "batch_number": f"BENCH-{k + 1:02d}",
                "expires_on": today + timedelta(days=720),
                "quantity_received_ul": 2_000_000_000,  # INTEGER: at most 2 m3
                "balance_ul": 2_000_000_000,
                "received_at": now - timedelta(days=span_days + 30),
                "received_by": "bench",
            }
            for k, p in enumerate(products)
        ]
        for lot in bench_lots[clinic["id"]]:
            w.add("lots", dict(lot))
    w.flush()
    balances = {lot["id"]: lot["balance_ul"] for lots in bench_lots.values() for lot in lots}
    moved: list[dict[str, Any]] = []
    record_seq: dict[Any, int] = {c["id"]: c["record_seq"] for c in clinics}
    for i in range(args.patients):
        clinic = clinics[i % len(clinics)]
        record_seq[clinic["id"]] += 1
        _patient(
            w,
            rng,
            i,
            clinic,
            record_seq[clinic["id"]],
            now,
            span_days,
            templates=(assessments, plans, visit_template, form),
            diary=diaries[clinic["id"]],
            practitioners=practitioners[clinic["id"]],
            lots=bench_lots[clinic["id"]],
            cocktail_of=cocktail_of,
            moved=moved,
        )
        if (i + 1) % 10000 == 0:
            print(f"{i + 1} patients", file=sys.stderr, flush=True)
    w.flush()
    # Stock: one `used` movement per visit lot, balances in time order, then the lot balance.
    moved.sort(key=lambda m: m["at"])
    for m in moved:
        balances[m["lot_id"]] -= m["quantity_ul"]
        w.add(
            "stock_movements",
            {**m, "quantity_ul": -m["quantity_ul"], "balance_after_ul": balances[m["lot_id"]]},
        )
    lots_table = metadata.tables["lots"]
    w.flush()
    for lot_id, balance in balances.items():
        conn.execute(update(lots_table).where(lots_table.c.id == lot_id).values(balance_ul=balance))
    clinics_table = metadata.tables["clinics"]
    for clinic_id, seq in record_seq.items():
        conn.execute(
            update(clinics_table).where(clinics_table.c.id == clinic_id).values(record_seq=seq)
        )
    audit = metadata.tables["audit_log"]
    conn.execute(
        insert(audit).values(
            at=now,
            actor_username="bench",
            actor_role="admin",
            action="create",
            entity_type="bench_data",
            detail=json.dumps({"patients": args.patients, "clinics": args.clinics}),
        )
    )
    total = conn.execute(select(func.count()).select_from(metadata.tables["patients"])).scalar()
    w.counts["patients_total"] = int(total or 0)
    print(json.dumps({k: round(v, 1) for k, v in w.seconds.items()}), file=sys.stderr)
    return dict(w.counts)


def _appointment_slots(appointment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    resources = (
        f"practitioner:{appointment['practitioner_id']}",
        f"room:{appointment['clinic_id']}:{appointment['room'].lower()}",
    )
    for r in resources:
        for k in range(APPOINTMENT_MINUTES // SLOT_MINUTES):
            yield {
                "resource": r,
                "slot_start": appointment["starts_at"] + timedelta(minutes=SLOT_MINUTES * k),
                "appointment_id": appointment["id"],
            }


def _patient(
    w: Writer,
    rng: random.Random,
    i: int,
    clinic: dict[str, Any],
    seq: int,
    now: datetime,
    span_days: int,
    *,
    templates: tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], dict[str, Any]],
    diary: Diary,
    practitioners: list[Any],
    lots: list[dict[str, Any]],
    cocktail_of: dict[Any, Any],
    moved: list[dict[str, Any]],
) -> None:
    assessments, plans, visit_template, form = templates
    today = now.date()
    pid = uuid.uuid4()
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    phone = f"+44 7{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}"
    w.add(
        "patients",
        {
            "id": pid,
            "clinic_id": clinic["id"],
            "record_number": f"MC-{seq:06d}",
            "given_name": given,
            "family_name": family,
            "birth_date": date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55)),
            "sex": rng.choice(("female", "male")),
            "phone": phone,
            "phone_digits": search_keys.digits(phone),
            "phone_reversed": search_keys.reversed_digits(phone),
            "given_key": search_keys.name_key(given),
            "family_key": search_keys.name_key(family),
            "email": f"{given.lower()}.{family.lower()}{i}@example.org",
            "city": "London",
            "country": "GB",
            "email_opt_out": i % 9 == 8,
            "status": "active",
            "created_at": now - timedelta(days=span_days),
            "created_by": "bench",
            "updated_at": now - timedelta(days=span_days),
            "updated_by": "bench",
        },
    )
    start = today - timedelta(days=rng.randrange(-14, span_days))
    assessed = datetime.combine(start - timedelta(days=14), datetime.min.time(), UTC)
    a = rng.choice(assessments)
    w.add(
        "assessments",
        {
            **a,
            "id": uuid.uuid4(),
            "patient_id": pid,
            "clinic_id": clinic["id"],
            "assessed_at": assessed + timedelta(hours=10),
            "created_at": assessed,
            "updated_at": assessed,
        },
    )
    w.add(
        "consents",
        {
            "id": uuid.uuid4(),
            "patient_id": pid,
            "form_id": form["id"],
            "signed_at": assessed + timedelta(hours=10, minutes=30),
            "signed_by": f"{given} {family}",
            "signer_role": "patient",
            "recorded_by": "bench",
            "recorded_at": assessed + timedelta(hours=10, minutes=30),
        },
    )
    plan = rng.choice(plans)
    plan_id = uuid.uuid4()
    dates = [start + timedelta(days=SESSION_GAP_DAYS * j) for j in range(6)]
    finished = dates[-1] < today
    w.add(
        "treatment_plans",
        {
            **plan,
            "id": plan_id,
            "patient_id": pid,
            "clinic_id": clinic["id"],
            "start_date": start,
            "status": "completed" if finished else "active",
            "status_reason": None,
            "activated_at": assessed + timedelta(hours=11),
            "ended_at": now if finished else None,
            "created_at": assessed,
            "updated_at": assessed,
        },
    )
    for j, planned in enumerate(dates):
        pair, starts_at = diary.take(planned)
        past = starts_at < now
        visited = past and j < 3
        status = "done" if visited else ("cancelled" if past else "booked")
        session_id, appointment_id = uuid.uuid4(), uuid.uuid4()
        w.add(
            "plan_sessions",
            {
                "id": session_id,
                "plan_id": plan_id,
                "sequence": j + 1,
                "phase": "induction" if j < 4 else "maintenance",
                "planned_date": planned,
                "window_start": planned,
                "window_end": planned + timedelta(days=4),
                "min_gap_days": 0 if j == 0 else 14,
                "includes_prp": False,
                "status": status,
                "appointment_id": appointment_id,
                "updated_at": now,
            },
        )
        appointment = {
            "id": appointment_id,
            "clinic_id": clinic["id"],
            "patient_id": pid,
            "practitioner_id": practitioners[pair],
            "room": f"Suite {pair + 1}",  # the demo books Room 1 and 2
            "starts_at": starts_at,
            "duration_minutes": APPOINTMENT_MINUTES,
            "status": status,
            "plan_session_id": session_id,
            "status_reason": "patient stopped the programme" if status == "cancelled" else None,
            "created_at": starts_at - timedelta(days=21),
            "created_by": "bench",
            "updated_at": starts_at - timedelta(days=21),
            "updated_by": "bench",
        }
        w.add("appointments", appointment)
        if status != "cancelled":  # cancelling frees the slots
            for slot in _appointment_slots(appointment):
                w.add("booking_slots", slot)
        if visited:
            moved.append(_visit(w, rng, pid, clinic, appointment, session_id, visit_template, lots))
            if i % 3 == 0:
                _measurement(w, rng, pid, starts_at, j)
    if i % 10 == 0:
        day = today + timedelta(days=rng.randrange(1, 60))
        w.add(
            "declared_events",
            {
                "id": uuid.uuid4(),
                "patient_id": pid,
                "kind": "hair_colouring",
                "starts_on": day,
                "ends_on": day,
                "note": "Salon appointment",
                "status": "active",
                "created_at": now,
                "created_by": "bench",
            },
        )


def _visit(
    w: Writer,
    rng: random.Random,
    pid: uuid.UUID,
    clinic: dict[str, Any],
    appointment: dict[str, Any],
    session_id: uuid.UUID,
    template: dict[str, Any],
    lots: list[dict[str, Any]],
) -> dict[str, Any]:
    """Add a visit and its lot usage; returns the stock movement it causes."""
    lot = rng.choice(lots)
    visit_id = uuid.uuid4()
    at = appointment["starts_at"]
    points = rng.randrange(40, 90)
    volume = round(points * 0.05, 2)
    w.add(
        "visits",
        {
            **template,
            "id": visit_id,
            "clinic_id": clinic["id"],
            "patient_id": pid,
            "practitioner_id": appointment["practitioner_id"],
            "performed_at": at,
            "plan_session_id": session_id,
            "points": points,
            "volume_per_point_ml": 0.05,
            "total_volume_ml": volume,
            "pain_score": rng.randrange(0, 5),
            "created_at": at,
            "updated_at": at,
            "created_by": "bench",
            "updated_by": "bench",
        },
    )
    used = int(volume * 1000)
    w.add(
        "visit_lots",
        {"id": uuid.uuid4(), "visit_id": visit_id, "lot_id": lot["id"], "volume_ul": used},
    )
    return {
        "id": uuid.uuid4(),
        "lot_id": lot["id"],
        "kind": "used",
        "quantity_ul": used,
        "visit_id": visit_id,
        "at": at,
        "by": "bench",
    }


def _measurement(w: Writer, rng: random.Random, pid: uuid.UUID, at: datetime, j: int) -> None:
    w.add(
        "measurements",
        {
            "id": uuid.uuid4(),
            "patient_id": pid,
            "kind": "density_total",
            "value": round(rng.uniform(110, 160) + 4 * j, 1),
            "unit": "/cm2",
            "measured_at": at - timedelta(minutes=10),
            "source": "device",
            "recorded_by": "bench",
            "device_name": "TrichoScan",
            "status": "final",
            "created_at": at,
        },
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(json.dumps(build(args)))


if __name__ == "__main__":
    main()
