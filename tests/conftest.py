"""Shared fixtures: a real database (SQLite always, PostgreSQL when configured), the app, and
personas (clinic A and B staff, a patient user) with API clients.

Isolation: the schema is migrated once per database. Each test runs inside one transaction on
one connection, rolled back at the end: the test's `db.factory` and the app's sessionmaker are
bound to that connection with `join_transaction_mode="create_savepoint"`, so the commits of the
code under test only release savepoints. Tests that need real commits (live servers,
subprocesses, CLI commands, threads racing on their own connections, backup, migrations) are
marked `@pytest.mark.committed`: they use the database as it is, and afterwards every table is
emptied and the rows the migrations seeded are put back.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, delete, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic import migrate
from mesoclinic.app import create_app
from mesoclinic.config import Settings
from mesoclinic.db import SQLITE_BEGIN, make_engine, make_sessionmaker, unit_of_work
from mesoclinic.models_registry import metadata
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.models import Clinic, User
from mesoclinic.security.service import issue_token
from support import PG_URL, TEST_PASSWORD, csrf_from, password_hash_for_tests, skip_or_fail


def _postgres_database() -> Iterator[str]:
    if not PG_URL:
        skip_or_fail("MESOCLINIC_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    assert PG_URL
    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"mc_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL"
        admin.dispose()
        skip_or_fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        yield from _postgres_database()


@dataclass
class Database:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    seeded: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The test's connection, inside the transaction rolled back at its end (None when committed).
    connection: Connection | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def reset(self) -> None:
        """Empty every table and restore what the migrations seeded."""
        with self.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
            for table in metadata.sorted_tables:
                if rows := self.seeded.get(table.name):
                    conn.execute(insert(table), rows)


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    db = Database(database_url, engine, make_sessionmaker(engine))
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in conn.execute(select(table))]
            if rows:
                db.seeded[table.name] = rows
    yield db
    engine.dispose()


COMMITTED = "committed"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{COMMITTED}: the test needs real commits (servers, subprocesses, CLI commands, threads "
        "on their own connections); the database is emptied afterwards instead of rolled back",
    )


@pytest.fixture
def db(request: pytest.FixtureRequest, database: Database) -> Iterator[Database]:
    """A clean database for one test: a transaction rolled back at the end, or, for tests marked
    `committed`, the database itself, emptied afterwards."""
    if request.node.get_closest_marker(COMMITTED):
        yield database
        database.reset()
        return
    # DEFERRED: the test takes SQLite's write lock only when it first writes, so reads on other
    # connections (migration checks, /healthz's own engine) can still begin before that.
    with database.engine.connect().execution_options(**{SQLITE_BEGIN: "DEFERRED"}) as conn:
        outer = conn.begin()
        factory = make_sessionmaker(database.engine)
        factory.configure(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield replace(database, factory=factory, connection=conn)
        finally:
            outer.rollback()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session whose work is committed when the test's block ends (for arranging data)."""
    with unit_of_work(db.factory) as s:
        yield s


@pytest.fixture(scope="session")
def settings_for(tmp_path_factory: pytest.TempPathFactory) -> Any:
    def build(url: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": url,
            "data_dir": tmp_path_factory.mktemp("data"),
            "secret_key": "test-secret-" + "x" * 40,
            "environment": "test",
            "login_max_failures": 5,
            "login_lockout_minutes": 15,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture(scope="session")
def app_for_database(database: Database, settings_for: Any) -> FastAPI:
    return create_app(settings_for(database.url), run_migrations=False)


@pytest.fixture
def app(db: Database, app_for_database: FastAPI) -> Iterator[FastAPI]:
    """The app, its requests joining the test's transaction unless the test is `committed`."""
    if db.connection is None:
        yield app_for_database
        return
    own = app_for_database.state.sessionmaker
    app_for_database.state.sessionmaker = db.factory
    try:
        yield app_for_database
    finally:
        app_for_database.state.sessionmaker = own


@pytest.fixture
def anon(app: FastAPI) -> TestClient:
    """A client with no credentials."""
    return TestClient(app, base_url="https://testserver")


@dataclass
class World:
    """Personas: two clinics, staff of each, a patient user, and their patients."""

    app: FastAPI
    db: Database
    clinic_a: Clinic
    clinic_b: Clinic
    users: dict[str, User]
    patient_a: Any  # the patient record linked to the patient user
    other_patient_a: Any
    patient_b: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, persona: str) -> TestClient:
        """An API client authenticated as `persona` (admin, clinician, ..., clinician_b)."""
        c = TestClient(self.app, base_url="https://testserver")
        c.headers["Authorization"] = f"Bearer {self.tokens[persona]}"
        return c

    def web(self, persona: str) -> TestClient:
        """A browser-like client signed in through the login form as `persona`."""
        c = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        page = c.get("/login")
        token = csrf_from(page.text)
        r = c.post(
            "/login",
            data={
                "username": self.users[persona].username,
                "password": TEST_PASSWORD,
                "csrf_token": token,
            },
        )
        assert r.status_code == 303, r.text
        return c

    def actor(self, persona: str) -> Any:
        from mesoclinic.security.service import actor_for

        return actor_for(self.users[persona], "testclient")


PERSONA_ROLES = {
    "admin": ("admin", None),
    "clinician": ("clinician", "a"),
    "nurse": ("nurse", "a"),
    "reception": ("reception", "a"),
    "patient": ("patient", "a"),
    "clinician_b": ("clinician", "b"),
    "clinic_admin": ("clinic_admin", "a"),
    "nurse_b": ("nurse", "b"),
    "reception_b": ("reception", "b"),
    "clinic_admin_b": ("clinic_admin", "b"),
    "patient_a2": ("patient", "a"),  # the user of other_patient_a
    "patient_b": ("patient", "b"),  # the user of patient_b
}
STAFF_ROLES = ("admin", "clinician", "nurse", "reception")


def make_patient(session: Session, clinic: Clinic, **overrides: Any) -> Any:
    from mesoclinic.patients import service as patient_service
    from mesoclinic.patients.schemas import PatientCreate

    values: dict[str, Any] = {
        "given_name": "Ana",
        "family_name": "Silva",
        "birth_date": "1985-04-12",
        "sex": "female",
        "phone": "+44 20 7946 0001",
        "email": "ana@example.org",
    }
    values.update(overrides)
    actor = cli_actor("test-setup")
    return patient_service.create(session, actor, PatientCreate(**values), clinic.id)


@pytest.fixture
def world(app: FastAPI, db: Database) -> World:
    from datetime import timedelta

    with unit_of_work(db.factory) as s:
        clinic_a = Clinic(name="Clinic A", timezone="Europe/London")
        clinic_b = Clinic(name="Clinic B", timezone="Europe/Madrid")
        s.add_all([clinic_a, clinic_b])
        s.flush()
        patient_a = make_patient(s, clinic_a)
        other = make_patient(
            s,
            clinic_a,
            given_name="Bruno",
            family_name="Costa",
            sex="male",
            birth_date="1979-09-30",
            phone="+44 20 7946 0002",
            email="bruno@example.org",
        )
        patient_b = make_patient(
            s,
            clinic_b,
            given_name="Carmen",
            family_name="Ruiz",
            birth_date="1990-01-15",
            phone="+34 600 000 003",
            email="carmen@example.org",
        )
        users: dict[str, User] = {}
        tokens: dict[str, str] = {}
        for persona, (role, clinic_key) in PERSONA_ROLES.items():
            clinic = {"a": clinic_a, "b": clinic_b, None: None}[clinic_key]
            user = User(
                username=f"{persona}.user",
                display_name=persona.title(),
                role=role,
                password_hash=password_hash_for_tests(),
                clinic_id=clinic.id if clinic else None,
                patient_id={"patient": patient_a, "patient_a2": other, "patient_b": patient_b}[
                    persona
                ].id
                if role == "patient"
                else None,
            )
            s.add(user)
            s.flush()
            users[persona] = user
            tokens[persona], _ = issue_token(
                s, user, kind="api", lifetime=timedelta(hours=1), client_addr="test"
            )
    return World(app, db, clinic_a, clinic_b, users, patient_a, other, patient_b, tokens)


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@pytest.fixture(scope="session")
def live_server_for_database(database: Database, settings_for: Any) -> Iterator[LiveServer]:
    """The app served by a real Uvicorn on a free loopback port (plain HTTP, so the session
    cookie is not marked Secure here)."""
    import socket
    import threading
    import time

    import uvicorn

    live_app = create_app(settings_for(database.url, cookie_secure=False), run_migrations=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(live_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", live_app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_server(db: Database, live_server_for_database: LiveServer) -> LiveServer:
    if db.connection is not None:
        pytest.fail("a live server sees only committed data: mark the test @pytest.mark.committed")
    return live_server_for_database


CHROMIUM = os.environ.get("MESOCLINIC_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_instance() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser_instance: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser tab (own cookies) pointed at the live server."""
    context = browser_instance.new_context(base_url=live_server.url)
    context.set_default_timeout(15000)
    tab = context.new_page()
    yield tab
    context.close()
