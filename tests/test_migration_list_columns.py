"""0010 turns comma-joined list fields into JSON columns and back, keeping every value."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from mesoclinic import migrate
from mesoclinic.db import make_engine
from support import PG_URL, skip_or_fail

BEFORE = "0009_drop_user_lockout_columns"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own: the test moves its schema down and up again."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        skip_or_fail("MESOCLINIC_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    assert PG_URL
    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"mc_mig_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Rows as the comma-joined columns held them, including empty lists.
OLD_ROWS = {
    "ingredients": [("aliases", "vitamin b7,vitamin h"), ("aliases", "")],
    "visits": [("zones", "frontal,vertex"), ("confirmed_warnings", "dose.near_limit,lot.expiring")],
    "clinic_schedules": [
        ("opening_weekdays", "0,1,2,3,4"),
        ("opening_weekdays", ""),
        ("rooms", "Room 1\nTreatment room, upstairs"),
    ],
}
SEPARATOR = {"rooms": "\n"}


def _migrate(engine: Engine, step: Any, revision: str) -> None:
    cfg = migrate.alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        step(cfg, revision)


def _filler(column: sa.Column[Any]) -> Any:
    kind = column.type.python_type
    # Strings and ids differ per row so unique constraints hold.
    samples: dict[type, Any] = {
        str: uuid.uuid4().hex[:8],
        int: 0,
        float: 0.0,
        bool: False,
        uuid.UUID: uuid.uuid4(),
    }
    if kind is datetime:
        return datetime.now(UTC)
    if kind is date:
        return date(2026, 1, 1)
    return samples[kind]


def _insert(conn: sa.Connection, metadata: sa.MetaData, name: str, **values: Any) -> Any:
    """A row with every required column filled, its required parents inserted first."""
    table = sa.Table(name, metadata, autoload_with=conn)
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.foreign_keys:
            parent = next(iter(column.foreign_keys)).column.table.name
            row[column.name] = _insert(conn, metadata, parent)
        else:
            row[column.name] = _filler(column)
    row.update(values)
    row_id = uuid.uuid4()
    row["id"] = row_id if conn.dialect.name == "postgresql" else row_id.hex
    conn.execute(table.insert().values(row))
    return row["id"]


def _insert_old_rows(engine: Engine) -> dict[tuple[str, str], dict[uuid.UUID, str]]:
    stored: dict[tuple[str, str], dict[uuid.UUID, str]] = {}
    metadata = sa.MetaData()
    with engine.begin() as conn:
        for table_name, rows in OLD_ROWS.items():
            for column_name, value in rows:
                blanks = {other: "" for other, _ in rows}
                row_id = _insert(conn, metadata, table_name, **{**blanks, column_name: value})
                stored.setdefault((table_name, column_name), {})[uuid.UUID(str(row_id))] = value
    return stored


def _as_text(engine: Engine, table: str, column: str) -> dict[uuid.UUID, str]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, {column} FROM {table}"))
        return {uuid.UUID(str(row_id)): value for row_id, value in rows}


def _as_lists(engine: Engine, table: str, column: str) -> dict[uuid.UUID, list[Any]]:
    query = select(sa.column("id", sa.Uuid()), sa.column(column, sa.JSON())).select_from(
        sa.table(table)
    )
    with engine.connect() as conn:
        return {row_id: values for row_id, values in conn.execute(query)}


def test_comma_joined_values_become_lists_and_back(fresh_engine: Engine) -> None:
    _migrate(fresh_engine, command.upgrade, BEFORE)
    old = _insert_old_rows(fresh_engine)

    _migrate(fresh_engine, command.upgrade, "heads")
    for (table, column), rows in old.items():
        lists = _as_lists(fresh_engine, table, column)
        for row_id, value in rows.items():
            expected = [p for p in value.split(SEPARATOR.get(column, ",")) if p]
            if column == "opening_weekdays":
                assert lists[row_id] == [int(p) for p in expected]
            else:
                assert lists[row_id] == expected

    _migrate(fresh_engine, command.downgrade, BEFORE)
    for (table, column), rows in old.items():
        assert {k: v for k, v in _as_text(fresh_engine, table, column).items() if k in rows} == rows
