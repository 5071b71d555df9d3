"""A busy database is a 503 with Retry-After and nothing stored, never a 500.

Another connection holds the lock a patient registration needs (SQLite's write lock, or the
clinic row whose record-number counter PostgreSQL locks) for longer than the app's lock
timeout; the request is answered 503, and once the lock is gone the same request succeeds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from mesoclinic.app import create_app
from mesoclinic.db import is_overload
from mesoclinic.patients.models import Patient
from support import TEST_PASSWORD, csrf_from


def _operational(message: str, sqlstate: str | None = None) -> OperationalError:
    orig = SimpleNamespace(sqlstate=sqlstate) if sqlstate else Exception(message)
    if sqlstate:
        orig.__str__ = lambda: message  # type: ignore[method-assign]
    return OperationalError("SQL", {}, orig)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
        (_operational("database is locked"), True),
        (_operational("database table is locked"), True),
        (_operational("canceling statement due to lock timeout", "55P03"), True),
        (_operational("could not serialize access", "40001"), True),
        (_operational("deadlock detected", "40P01"), True),
        (_operational("sorry, too many clients already", "53300"), True),
        (_operational("no such table: patients"), False),
        (_operational("column does not exist", "42703"), False),
        (IntegrityError("SQL", {}, Exception("UNIQUE constraint failed")), False),
        (ValueError("database is locked"), False),
    ],
)
def test_only_busy_database_errors_count_as_overload(error: Exception, busy: bool) -> None:
    assert is_overload(error) is busy


@contextmanager
def lock_held(db: Any, clinic_id: Any) -> Iterator[None]:
    """Hold, from another connection, the lock a patient registration in the clinic needs."""
    if db.dialect == "sqlite":
        raw = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    with db.engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT id FROM clinics WHERE id = :id FOR UPDATE"), {"id": clinic_id})
        yield


pytestmark = pytest.mark.committed  # the lock is held on a connection of its own


@pytest.fixture
def busy_app(db, settings_for) -> Iterator[Any]:
    app = create_app(settings_for(db.url, db_lock_timeout_seconds=0.3), run_migrations=False)
    yield app
    app.state.engine.dispose()


def _register(client: TestClient, token: str, name: str) -> Any:
    return client.post(
        "/api/v1/patients",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "given_name": name,
            "family_name": "Busy",
            "birth_date": "1990-01-01",
            "sex": "unknown",
        },
    )


def _stored(db: Any, name: str) -> int:
    with db.factory() as s:
        return len(s.execute(select(Patient).where(Patient.given_name == name)).all())


def test_a_write_that_cannot_get_its_lock_is_a_503_and_stores_nothing(world, db, busy_app):
    client = TestClient(busy_app, base_url="https://testserver")
    token = world.tokens["reception"]
    with lock_held(db, world.clinic_a.id):
        refused = _register(client, token, "Locked")
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"].isdigit()
    assert refused.json()["error"]["code"] == "busy"
    assert _stored(db, "Locked") == 0
    assert _register(client, token, "Locked").status_code == 201
    assert _stored(db, "Locked") == 1


def test_a_page_whose_audit_write_cannot_get_the_lock_is_a_503_page(world, db, busy_app):
    if db.dialect != "sqlite":
        pytest.skip("on PostgreSQL a page's audit insert takes no lock another holds")
    client = TestClient(busy_app, base_url="https://testserver", follow_redirects=False)
    login = client.get("/login")
    signed_in = client.post(
        "/login",
        data={
            "username": world.users["reception"].username,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_from(login.text),
        },
    )
    assert signed_in.status_code == 303
    with lock_held(db, world.clinic_a.id):
        page = client.get(f"/patients/{world.patient_a.id}")
    assert page.status_code == 503
    assert page.headers["retry-after"].isdigit()
    assert "busy" in page.text
    assert client.get(f"/patients/{world.patient_a.id}").status_code == 200
