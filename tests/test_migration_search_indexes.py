"""0012 fills the search keys and the awaiting-override flag of existing rows, and goes back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, text

from test_migration_list_columns import _insert, _migrate, fresh_engine  # noqa: F401

BEFORE = "0011_outcomes_jobs"
WAITING = {
    "candidacy": "not_recommended",
    "candidacy_findings": [{"rule_id": "candidacy.x", "severity": "relative"}],
    "contraindications": [],
    "overrides": [],
}
OVERRIDDEN = {**WAITING, "overrides": [{"rule_id": "candidacy.x"}]}


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def test_existing_patients_and_assessments_are_backfilled(fresh_engine: Engine) -> None:  # noqa: F811
    _migrate(fresh_engine, command.upgrade, BEFORE)
    metadata = sa.MetaData()
    with fresh_engine.begin() as conn:
        patient = _insert(
            conn,
            metadata,
            "patients",
            given_name="Iñés",
            family_name="O'Brien-Núñez",
            phone="+44 7700 900123",
            phone_digits="447700900123",
        )
        for decision in (WAITING, OVERRIDDEN):
            _insert(conn, metadata, "assessments", patient_id=patient, decision=decision, facts={})

    _migrate(fresh_engine, command.upgrade, "heads")
    keys = _rows(fresh_engine, "SELECT given_key, family_key, phone_reversed FROM patients")
    assert [tuple(r) for r in keys] == [("ines", "obrien nunez", "321009007744")]
    flags = _rows(fresh_engine, "SELECT awaiting_override FROM assessments")
    assert sorted(bool(r[0]) for r in flags) == [False, True]

    _migrate(fresh_engine, command.downgrade, BEFORE)
    columns = {c["name"] for c in sa.inspect(fresh_engine).get_columns("patients")}
    assert not {"given_key", "family_key", "phone_reversed"} & columns
