"""Database engine, ORM base, typed columns and the unit of work.

SQLite runs in WAL mode with foreign keys on. Transactions that may write (unsafe requests, CLI
commands, jobs) start with BEGIN IMMEDIATE: taking the write lock up front avoids "database is
locked" upgrades and makes check-then-write races impossible. Reads (`read_unit_of_work`) start
DEFERRED and take no write lock; their writes (audit entries) are queued and run afterwards in one
short write transaction, so a slow read never stops the rest of the clinic.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def utcnow() -> datetime:
    return datetime.now(UTC)


def status_type(enum: type[StrEnum], length: int) -> Enum:
    """A VARCHAR(length) column holding the enum's values (FHIR codes such as
    `entered-in-error`, not member names), so stored data needs no migration; values outside
    the enum are refused in Python on write."""
    return Enum(
        enum,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class RecordStatus(StrEnum):
    """A clinical record that is voided, never deleted (FHIR codes)."""

    ACTIVE = "active"
    ENTERED_IN_ERROR = "entered-in-error"


class UUIDPrimaryKey:
    """A UUID primary key: the same id in URLs, FHIR resources and the database."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


# Connection execution option naming how SQLite begins a transaction ("IMMEDIATE" by default).
SQLITE_BEGIN = "mesoclinic_sqlite_begin"
# `session.info` key of the writes a SQLite read transaction queues for after it has ended.
DEFERRED_WRITES = "mesoclinic_deferred_writes"
DeferredWrite = Callable[[Session], None]


def make_engine(url: str, *, lock_timeout_s: float = 30.0, **kwargs: Any) -> Engine:
    """Create an engine with the house settings for SQLite or PostgreSQL.

    `lock_timeout_s` is how long a statement waits for a lock another connection holds (SQLite's
    busy timeout on its write lock, PostgreSQL's `lock_timeout` on rows and tables) before it
    fails as busy (`is_overload`) instead of waiting for ever; pool options (`pool_size`,
    `max_overflow`, `pool_timeout`) pass through.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout_s}, **kwargs
        )
        _configure_sqlite(engine, lock_timeout_s)
        return engine
    options = f"-c lock_timeout={int(lock_timeout_s * 1000)}"
    return create_engine(url, pool_pre_ping=True, connect_args={"options": options}, **kwargs)


def _configure_sqlite(engine: Engine, lock_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_s * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        if mode not in ("IMMEDIATE", "DEFERRED"):
            raise ValueError(f"unknown SQLite transaction mode {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")


# SQLSTATE classes and codes of PostgreSQL errors that mean "busy, try again", not "broken":
# 08 connection, 40 transaction rollback (serialization failure, deadlock), 53 insufficient
# resources (too many connections), 57 operator intervention (statement timeout, shutdown),
# 55P03 lock not available.
_PG_BUSY_CLASSES = ("08", "40", "53", "57")
_PG_BUSY_CODES = frozenset({"55P03"})
_SQLITE_BUSY_WORDS = ("database is locked", "database is busy", "database table is locked")


def is_overload(exc: BaseException) -> bool:
    """Whether a database error means the database was busy or out of capacity (the work was
    rolled back and may simply be retried) rather than a fault in the request or the code."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _PG_BUSY_CLASSES or sqlstate in _PG_BUSY_CODES
    message = str(exc.orig).lower()
    return any(words in message for words in _SQLITE_BUSY_WORDS)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def read_unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction for work that only reads, plus the writes it queues (audit entries).

    On SQLite it begins DEFERRED, so it holds no write lock while it reads; the writes queued in
    `session.info[DEFERRED_WRITES]` run after it in one short IMMEDIATE transaction, before the
    block returns. On PostgreSQL nothing is queued: inserts take no shared lock there, so the
    writes stay in the read's own transaction. Either way an exception leaves nothing written.
    """
    with factory() as session:
        deferred = session.get_bind().dialect.name == "sqlite"
        with session.begin():
            if deferred:
                session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
                session.info[DEFERRED_WRITES] = []
            yield session
        writes: list[DeferredWrite] = session.info.pop(DEFERRED_WRITES, [])
        if writes:
            with session.begin():
                for write in writes:
                    write(session)
