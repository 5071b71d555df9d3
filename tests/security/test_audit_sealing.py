"""Audit entries are recorded without a global lock and sealed into one chain afterwards.

Real databases, real threads: no entry is lost or forked under 16 concurrent writers, an open
transaction holding an audit insert blocks no other request's audit insert, and a sealer only
ever chains committed entries.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select, text

from mesoclinic.db import make_engine, make_sessionmaker, read_unit_of_work, unit_of_work
from mesoclinic.security import audit, audit_seal
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.models import AuditEntry, Clinic

WRITERS = 16
TRANSACTIONS_EACH = 6


class Rollback(Exception):
    """Raised inside a writer's transaction to throw its audit entry away."""


def _record(session, entity_id):
    audit.record(session, cli_actor(), "read", "patient", entity_id)


def _seal(factory):
    with unit_of_work(factory) as s:
        return audit_seal.seal(s)


def _chain(factory):
    with factory() as s:
        return s.execute(select(AuditEntry.seq, AuditEntry.entity_id).order_by(AuditEntry.id)).all()


@pytest.fixture
def roomy(db):
    """A session factory with a connection for every writer thread and the sealer."""
    engine = make_engine(db.url, pool_size=WRITERS + 4)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def impatient(db):
    """A session factory that gives up on a lock after a moment instead of waiting 30 s."""
    engine = make_engine(db.url)

    @event.listens_for(engine, "connect")
    def _short_waits(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        if db.dialect == "sqlite":
            cursor.execute("PRAGMA busy_timeout=200")
        else:
            cursor.execute("SET lock_timeout = '1s'")
        cursor.close()
        if db.dialect != "sqlite":
            dbapi_conn.commit()

    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.mark.committed  # transactions on their own connections
def test_sixteen_concurrent_writers_lose_and_fork_nothing(roomy):
    committed: set[str] = set()
    lock = threading.Lock()
    start = threading.Barrier(WRITERS + 1)
    writers_done = threading.Event()

    def writer(w):
        start.wait()
        for i in range(TRANSACTIONS_EACH):
            entity_id = f"w{w}-t{i}"
            try:
                with unit_of_work(roomy) as s:
                    _record(s, entity_id)
                    _record(s, entity_id + "-second")
                    if i % 3 == 2:
                        raise Rollback
            except Rollback:
                continue
            with lock:
                committed.update({entity_id, entity_id + "-second"})

    def sealer():
        start.wait()
        while not writers_done.is_set():
            _seal(roomy)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    sealing = threading.Thread(target=sealer)
    for t in [*threads, sealing]:
        t.start()
    for t in threads:
        t.join()
    writers_done.set()
    sealing.join()
    _seal(roomy)

    chain = _chain(roomy)
    assert len(committed) == WRITERS * 8
    assert sorted(entity for _seq, entity in chain) == sorted(committed)
    assert sorted(seq for seq, _entity in chain) == list(range(1, len(committed) + 1))
    with roomy() as s:
        report = audit.verify(s)
    assert report.ok and report.checked == len(committed) and report.unsealed == 0


@pytest.mark.committed  # transactions on their own connections
def test_sixteen_writers_hold_open_audit_inserts_at_once(db, roomy):
    """With the old head-row lock the second writer would wait for the first to end, so the
    barrier (which every writer reaches with its transaction still open) would never fill."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite has one writer at a time by design; reads are the case there")
    all_open = threading.Barrier(WRITERS + 1, timeout=60)
    sealed_while_open = threading.Event()
    failures: list[BaseException] = []

    def writer(w):
        try:
            with unit_of_work(roomy) as s:
                _record(s, f"w{w}")
                all_open.wait()
                sealed_while_open.wait(60)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    all_open.wait()
    # The sealer neither waits for the open inserts nor chains what is not committed.
    assert _seal(roomy).sealed == 0
    sealed_while_open.set()
    for t in threads:
        t.join()
    assert failures == []
    assert _seal(roomy).sealed == WRITERS
    with roomy() as s:
        assert audit.verify(s).ok


@pytest.mark.committed  # transactions on their own connections
def test_a_lower_id_committed_later_is_sealed_next(db, roomy):
    if db.dialect == "sqlite":
        pytest.skip("two open write transactions need PostgreSQL")
    with roomy() as first, first.begin():
        _record(first, "inserted-first")
        with unit_of_work(roomy) as second:
            _record(second, "inserted-second")
        assert _seal(roomy).sealed == 1
    assert _seal(roomy).sealed == 1
    chain = dict((entity, seq) for seq, entity in _chain(roomy))
    assert chain == {"inserted-second": 1, "inserted-first": 2}
    with roomy() as s:
        assert audit.verify(s).ok


@pytest.mark.committed  # transactions on their own connections
def test_an_open_read_with_its_audit_entry_does_not_block_another_audit_insert(db, impatient):
    """The read's transaction stays open while another request records and commits; that
    other request uses short lock waits, so being blocked would fail it rather than pass
    slowly."""
    with read_unit_of_work(db.factory) as reading:
        reading.execute(select(func.count()).select_from(Clinic)).scalar_one()
        _record(reading, "slow-dashboard")
        with unit_of_work(impatient) as other:
            _record(other, "quick-read")
        with unit_of_work(impatient) as sealing:
            audit_seal.seal(sealing)
    _seal(db.factory)
    assert sorted(entity for _seq, entity in _chain(db.factory)) == [
        "quick-read",
        "slow-dashboard",
    ]


def test_a_failed_read_leaves_no_audit_entry(db):
    with pytest.raises(Rollback), read_unit_of_work(db.factory) as reading:
        _record(reading, "never-shown")
        raise Rollback
    assert _chain(db.factory) == []


@pytest.mark.committed  # transactions on their own connections
def test_a_read_transaction_takes_no_write_lock_on_sqlite(db, impatient):
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL readers never take SQLite's write lock")
    with read_unit_of_work(db.factory) as reading:
        reading.execute(text("SELECT 1")).scalar_one()
        with impatient() as other, other.begin():
            other.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: fails if the reader held it
