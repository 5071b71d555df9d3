"""Per-request scratch tables: a cohort and its per-patient outcomes computed once, then
aggregated as often as a report needs.

Every summary, comparison and report used to re-run the whole chain (select the cohort, find
the nearest values, pair them with the baseline) inside each of its aggregate queries. Here the
chain runs once per request into a temporary table, which only this connection sees and which
is gone at the end of the request (`ON COMMIT DROP` on PostgreSQL; dropped explicitly on
SQLite, whose temporary tables last as long as the pooled connection). A temporary table is
not a write to the database: a GET stays a read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import SchemaItem

from mesoclinic.analytics import rows
from mesoclinic.db import UTCDateTime

WORK_MEM = "64MB"
MEMBER_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("patient_id", Uuid),
    ("t0", UTCDateTime),
    ("sex", String),
    ("birth_date", Date),
    ("diagnosis", String),
    ("scale", String),
    ("grade", String),
    ("cocktail", String),
    ("protocol", String),
    ("dropped", Integer),
)
OUTCOME_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("patient_id", Uuid),
    ("tp", String),
    ("baseline", Float),
    ("value", Float),
    ("change", Float),
    ("responder", Integer),
)


class Scratch:
    """The temporary tables of one request, on the session's own connection."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.tables: list[Table] = []
        # Whether the derived rows follow this code's definition: then a cohort and its
        # outcomes are read from them (`analytics.rows`) and no scratch table is needed.
        self.derived = rows.ready(session.connection())

    def table(
        self,
        prefix: str,
        columns: Sequence[tuple[str, Any]],
        query: Any,
        key: Sequence[str],
    ) -> Table:
        """A temporary table filled from `query` (its columns in the order of `columns`),
        with `key` as its primary key."""
        name = f"tmp_{prefix}_{uuid.uuid4().hex[:12]}"
        options = {"postgresql_on_commit": "DROP"} if self.dialect == "postgresql" else {}
        items: list[SchemaItem] = [Column(c, kind(), primary_key=c in key) for c, kind in columns]
        table: Table = Table(  # type: ignore[call-overload]
            name, MetaData(), *items, prefixes=["TEMPORARY"], **options
        )
        connection = self.session.connection()
        table.create(connection)
        self.tables.append(table)
        connection.execute(insert(table).from_select([c for c, _ in columns], query))
        # PostgreSQL keeps no statistics on a new table until it is analysed, and its guesses
        # for the joins that follow were off by orders of magnitude.
        if self.dialect == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {name}")
        return table

    def drop(self) -> None:
        connection = self.session.connection()
        for table in reversed(self.tables):
            table.drop(connection)
        self.tables.clear()


@contextmanager
def scratch(session: Session) -> Iterator[Scratch]:
    """Temporary tables for one request, dropped when it is done. After an error the
    transaction's rollback removes them (table creation is transactional on both databases)."""
    tables = Scratch(session)
    if tables.dialect == "postgresql":
        # For this transaction only: the sorts and hashes over a large cohort's measurements
        # spilled to disk at the default 4 MB, and JIT compilation (triggered by the plans'
        # cost at 100,000 patients) took 3 s of a 10 s cohort selection, saving nothing.
        connection = session.connection()
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
        connection.exec_driver_sql("SET LOCAL jit = off")
    yield tables
    tables.drop()
