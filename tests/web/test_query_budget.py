"""SQL statements per request stay within a budget and do not grow with the number of records.

Each endpoint is asked once at 10 records and once at 50 (patients of the clinic, each with an
assessment waiting for an override, a plan, a measurement, a visit and an appointment today;
the patient asked about gets as many visits and appointments of their own). An N+1 query, or
a panel that loads a table into Python row by row, makes the second count larger. At 10
records the lists asked for are already longer than their page (a search whose first page is
not full counts nothing more, so it is one statement cheaper).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event

from conftest import make_patient
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import unit_of_work
from mesoclinic.formulary.models import Cocktail
from mesoclinic.outcomes.models import Measurement
from mesoclinic.plans.models import Appointment, TreatmentPlan
from mesoclinic.visits.models import Visit

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

# Statements per request as counted on SQLite in the test's transaction (BEGIN, the token and
# clinic lookups, the work, the savepoint and insert of the audit entry); PostgreSQL needs no
# second transaction for the audit entry, so it counts fewer. The guard that matters is that
# 50 records cost what 5 do.
# The dashboard and calendar include one batched insert of a read entry per patient shown.
BUDGET = {
    "dashboard": 28,
    "week calendar page": 14,
    "week calendar API": 9,
    "patient page": 7,
    "patient search": 8,
    "patient read": 7,
    "visits of a patient": 11,
}


def _week() -> str:
    monday = date.today() - timedelta(days=date.today().weekday())
    start = datetime.combine(monday, datetime.min.time(), UTC)
    end = start + timedelta(days=7)
    return f"start={quote(start.isoformat())}&end={quote(end.isoformat())}"


def _paths(world: Any) -> dict[str, str]:
    pid = world.patient_a.id
    return {
        "dashboard": "/",
        "week calendar page": "/calendar?view=week",
        "week calendar API": f"/api/v1/appointments?{_week()}",
        "patient page": f"/patients/{pid}",
        "patient search": "/api/v1/patients?q=sil&limit=5",
        "patient read": f"/api/v1/patients/{pid}",
        "visits of a patient": f"/api/v1/patients/{pid}/visits",
    }


def _add_records(world: Any, count: int, start: int) -> None:
    """`count` more patients with their records, and as many visits for patient A."""
    now = datetime.now(UTC).replace(microsecond=0)
    clinician = world.users["clinician"]
    with unit_of_work(world.db.factory) as s:
        cocktail = Cocktail(name=f"Budget cocktail {start}", total_volume_ml=5)
        s.add(cocktail)
        s.flush()
        for i in range(start, start + count):
            patient = make_patient(
                s,
                world.clinic_a,
                given_name=f"Given{i}",
                family_name=f"Silvano{i}",
                phone=f"+44 20 7000 {i:04d}",
            )
            s.add(
                Assessment(
                    patient_id=patient.id,
                    clinic_id=world.clinic_a.id,
                    assessed_at=now - timedelta(days=30),
                    diagnosis="androgenetic_alopecia",
                    icd10="L64.9",
                    snomed="87872006",
                    facts={},
                    candidacy="not_recommended",
                    decision=NEEDS_OVERRIDE,
                    rulebook_version="test",
                )
            )
            s.add(
                TreatmentPlan(
                    patient_id=patient.id,
                    clinic_id=world.clinic_a.id,
                    protocol_code="standard-vitamin",
                    protocol_name="Vitamin cocktail, standard",
                    start_date=now.date() - timedelta(days=21),
                    status="active",
                )
            )
            s.add(
                Measurement(
                    patient_id=patient.id,
                    kind="density_total",
                    value=120.0,
                    unit="/cm2",
                    measured_at=now - timedelta(days=20),
                    source="manual",
                    recorded_by="test",
                )
            )
            for owner in (patient.id, world.patient_a.id):
                s.add(
                    Visit(
                        clinic_id=world.clinic_a.id,
                        patient_id=owner,
                        practitioner_id=clinician.id,
                        performed_at=now - timedelta(days=14, minutes=i),
                        cocktail_id=cocktail.id,
                        technique="nappage",
                        zones=["vertex"],
                        depth_mm=1.5,
                        points=60,
                        volume_per_point_ml=0.05,
                        total_volume_ml=3.0,
                        needle_gauge=30,
                        needle_length_mm=4.0,
                    )
                )
                s.add(
                    Appointment(
                        clinic_id=world.clinic_a.id,
                        patient_id=owner,
                        practitioner_id=clinician.id,
                        room="Room 1",
                        starts_at=now + timedelta(minutes=i % 50),
                        duration_minutes=30,
                    )
                )


@contextmanager
def _counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements(world: Any, client: Any) -> dict[str, int]:
    counts = {}
    for name, path in _paths(world).items():
        client.get(path)  # warm: caches of the process (templates, rulebooks) are not per request
        with _counting(world.db.engine) as statements:
            response = client.get(path)
        assert response.status_code == 200, (name, response.text[:300])
        counts[name] = len(statements)
    return counts


@pytest.fixture
def clinician(world: Any) -> Any:
    return world.client("clinician")


def test_statements_per_request_stay_within_budget_and_do_not_grow(world, clinician):
    _add_records(world, 10, 0)
    at_10 = _statements(world, clinician)
    _add_records(world, 40, 10)
    at_50 = _statements(world, clinician)
    assert at_50 == at_10
    over = {name: (n, BUDGET[name]) for name, n in at_10.items() if n > BUDGET[name]}
    assert not over, f"statements over budget (counted, budget): {over}"


def test_the_dashboard_lists_decisions_awaiting_override_from_the_stored_flag(world, clinician):
    _add_records(world, 12, 0)
    page = clinician.get("/").text
    assert "Decisions awaiting you" in page
    # The panel shows the first 8 of the 12, newest assessment first, each with its rule's
    # reason in words.
    assert page.count("Advanced pattern hair loss responds poorly") == 8


def _search(world: Any, client: Any, path: str) -> tuple[dict[str, Any], list[str]]:
    with _counting(world.db.engine) as statements:
        response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    return response.json(), statements


def test_a_search_whose_page_is_not_full_counts_nothing_and_still_gives_the_total(world, clinician):
    _add_records(world, 3, 0)
    whole, whole_statements = _search(world, clinician, "/api/v1/patients?q=silvano&limit=25")
    assert whole["total"] == len(whole["items"]) == 3 and not whole["total_capped"]
    assert not any("count(" in s.lower() for s in whole_statements)
    # A full page counts, and says the same total; the last page counts nothing either.
    first, first_statements = _search(world, clinician, "/api/v1/patients?q=silvano&limit=2")
    assert first["total"] == 3 and len(first["items"]) == 2
    assert any("count(" in s.lower() for s in first_statements)
    last, last_statements = _search(world, clinician, "/api/v1/patients?q=silvano&limit=2&offset=2")
    assert last["total"] == 3 and len(last["items"]) == 1
    assert not any("count(" in s.lower() for s in last_statements)
    # Past the end there is nothing to go by: it counts.
    past, past_statements = _search(world, clinician, "/api/v1/patients?q=silvano&limit=2&offset=5")
    assert past["total"] == 3 and past["items"] == []
    assert any("count(" in s.lower() for s in past_statements)
