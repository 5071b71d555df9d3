"""The main endpoints' queries use indexes: EXPLAIN of each, with ~10k rows, on PostgreSQL.

Rows go into the test's own transaction (rolled back afterwards) and are ANALYZEd; every SELECT
the endpoints send is captured with its parameters and EXPLAINed on the same connection. A
sequential scan of patients, visits or appointments fails the test: at a clinic group's size
it reads the whole table on every request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event, insert, text

from mesoclinic.assessment.models import Assessment
from mesoclinic.formulary.models import Cocktail
from mesoclinic.patients.models import Patient
from mesoclinic.patients.search_keys import digits, name_key, reversed_digits
from mesoclinic.plans.models import Appointment
from mesoclinic.visits.models import Visit

pytestmark = pytest.mark.postgres_only

NEEDS_OVERRIDE = {
    "candidacy": "not_recommended",
    "candidacy_findings": [
        {
            "rule_id": "candidacy.advanced_male_pattern",
            "severity": "relative",
            "reason": "Advanced pattern hair loss responds poorly.",
            "source": "docs/clinical-sources.md#candidacy",
        }
    ],
    "contraindications": [],
    "rulebook_version": "test",
    "blocked": False,
    "overrides": [],
}
RECOMMENDED = {
    "candidacy": "recommended",
    "candidacy_findings": [],
    "contraindications": [],
    "rulebook_version": "test",
    "blocked": False,
    "overrides": [],
}

PATIENTS = 10_000
WATCHED = re.compile(r"Seq Scan on (patients|visits|appointments)\b")
FAMILY = ["Smith", "Jones", "Garcia", "Martin", "Khan", "Patel", "Lopez", "Brown", "Silvano"]
GIVEN = ["Olivia", "Noah", "Lucia", "Hugo", "Aisha", "Wei", "Emma", "Leo", "Ines"]


def _load(world: Any) -> None:
    """10k patients over both clinics, each with an assessment, a visit and two appointments."""
    conn = world.db.connection
    now = datetime.now(UTC).replace(microsecond=0)
    clinician = world.users["clinician"]
    cocktail_id = uuid.uuid4()
    conn.execute(insert(Cocktail), [{"id": cocktail_id, "name": "Plan", "total_volume_ml": 5}])
    patients, assessments, visits, appointments = [], [], [], []
    for i in range(PATIENTS):
        clinic = world.clinic_a if i % 2 else world.clinic_b
        given, family = GIVEN[i % len(GIVEN)], f"{FAMILY[i % len(FAMILY)]}{i}"
        if i % 1000 == 7:  # a rare name: a part of it is what a contains-search looks for
            family = f"Abernathy{i}"
        phone = f"+44 7700 {i:06d}"
        pid = uuid.uuid4()
        decision = NEEDS_OVERRIDE if i % 97 == 0 else RECOMMENDED
        patients.append(
            {
                "id": pid,
                "clinic_id": clinic.id,
                "record_number": f"MC-{100000 + i:06d}",
                "given_name": given,
                "family_name": family,
                "given_key": name_key(given),
                "family_key": name_key(family),
                "birth_date": date(1950, 1, 1) + timedelta(days=i % 20000),
                "sex": "female",
                "phone": phone,
                "phone_digits": digits(phone),
                "phone_reversed": reversed_digits(phone),
            }
        )
        assessments.append(
            {
                "id": uuid.uuid4(),
                "patient_id": pid,
                "clinic_id": clinic.id,
                "assessed_at": now - timedelta(days=i % 700),
                "diagnosis": "androgenetic_alopecia",
                "icd10": "L64.9",
                "snomed": "87872006",
                "facts": {},
                "candidacy": decision["candidacy"],
                "decision": decision,
                "rulebook_version": "test",
                "awaiting_override": decision is NEEDS_OVERRIDE,
            }
        )
        when = now - timedelta(days=i % 700, minutes=i % 600)
        visits.append(
            {
                "id": uuid.uuid4(),
                "clinic_id": clinic.id,
                "patient_id": pid,
                "practitioner_id": clinician.id,
                "performed_at": when,
                "cocktail_id": cocktail_id,
                "technique": "nappage",
                "zones": ["vertex"],
                "depth_mm": 1.5,
                "points": 60,
                "volume_per_point_ml": 0.05,
                "total_volume_ml": 3.0,
                "needle_gauge": 30,
                "needle_length_mm": 4.0,
            }
        )
        for k in (0, 1):
            appointments.append(
                {
                    "id": uuid.uuid4(),
                    "clinic_id": clinic.id,
                    "patient_id": pid,
                    "practitioner_id": clinician.id,
                    "room": "Room 1",
                    "starts_at": when + timedelta(days=21 * k),
                    "duration_minutes": 30,
                    "status": "done",
                }
            )
    for model, rows in (
        (Patient, patients),
        (Assessment, assessments),
        (Visit, visits),
        (Appointment, appointments),
    ):
        conn.execute(insert(model), rows)
    for table in ("patients", "assessments", "visits", "appointments", "measurements"):
        conn.execute(text(f"ANALYZE {table}"))


@contextmanager
def _captured(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    found: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _paths(world: Any) -> dict[str, str]:
    pid = world.patient_a.id
    monday = date.today() - timedelta(days=date.today().weekday())
    start = datetime.combine(monday, datetime.min.time(), UTC)
    week = f"start={quote(start.isoformat())}&end={quote((start + timedelta(days=7)).isoformat())}"
    return {
        "search by name": "/api/v1/patients?q=smi",
        "search by a part of a name": "/api/v1/patients?q=ernath",
        "search by two names": "/api/v1/patients?q=olivia%20smith",
        "search by birth date": "/api/v1/patients?birth_date=1980-05-01",
        "search by phone end": "/api/v1/patients?q=000123",
        "search by phone start": "/api/v1/patients?q=%2B44%207700%200012",
        "search by record number": "/api/v1/patients?q=MC-10012",
        "patient list page": "/patients?q=gar",
        "patient read": f"/api/v1/patients/{pid}",
        "visits of a patient": f"/api/v1/patients/{pid}/visits",
        "week calendar API": f"/api/v1/appointments?{week}",
        "week calendar page": "/calendar?view=week",
        "patient page": f"/patients/{pid}",
        "dashboard": "/",
    }


def test_main_endpoints_scan_no_big_table_sequentially(world):
    if world.db.dialect != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL (SQLite's planner differs)")
    _load(world)
    clinician = world.client("clinician")
    conn = world.db.connection
    scans = {}
    for name, path in _paths(world).items():
        with _captured(world.db.engine) as statements:
            assert clinician.get(path).status_code == 200, name
        for statement, parameters in statements:
            plan = "\n".join(
                row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            )
            if WATCHED.search(plan):
                scans.setdefault(name, []).append(f"{statement[:200]}\n{plan}")
    assert not scans, "\n\n".join(f"{k}:\n" + "\n".join(v) for k, v in scans.items())


def test_a_part_of_a_name_is_found_through_the_trigram_indexes(world):
    """`?q=ernath` finds Abernathy: LIKE '%ernath%' on the name keys, served by the pg_trgm GIN
    indexes of migration 0018, not by reading the clinic's patients one by one."""
    if world.db.dialect != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    _load(world)
    clinician = world.client("clinician")
    conn = world.db.connection
    with _captured(world.db.engine) as statements:
        answer = clinician.get("/api/v1/patients?q=ernath")
    assert answer.status_code == 200
    names = {p["family_name"] for p in answer.json()["items"]}
    assert names and all("ernath" in n.lower() for n in names), names
    plans = [
        "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        for statement, parameters in statements
        if "FROM patients" in statement and "LIKE" in statement
    ]
    assert plans, "the search sent no LIKE on patients"
    for plan in plans:
        assert not WATCHED.search(plan), plan
        assert "_trgm" in plan, plan
