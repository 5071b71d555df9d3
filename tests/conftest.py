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
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def _postgres_admin() -> tuple[Any, Engine]:
    """The URL of the configured PostgreSQL and an AUTOCOMMIT engine on it (skips without)."""
    if not PG_URL:
        skip_or_fail("MESOCLINIC_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    assert PG_URL
    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return base, create_engine(base, isolation_level="AUTOCOMMIT")


@contextmanager
def _postgres_database(prefix: str = "mc_test", template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of `template` when given), dropped afterwards."""
    base, admin = _postgres_admin()
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
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
        with _postgres_database() as url:
            yield url


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


def _seeded(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """The rows in each table (right after the migrations: what they seeded)."""
    seeded: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in conn.execute(select(table))]
            if rows:
                seeded[table.name] = rows
    return seeded


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    db = Database(database_url, engine, make_sessionmaker(engine), _seeded(engine))
    yield db
    engine.dispose()


@dataclass
class Demo:
    """The demo clinic, built once per test session and database by `ensure_demo` on an empty
    database: its answer (True: it built it), each demo patient's storyline and what the demo
    steps noted in `DemoContext.extra` (ids; ORM objects there are detached, count them only)."""

    created: bool
    storyline: dict[uuid.UUID, str]
    extra: dict[str, Any]
    settings: Settings


@dataclass
class DemoTemplate:
    """A database holding the demo clinic that no test connects to: each user gets a copy."""

    url: str
    demo: Demo
    seeded: dict[str, list[dict[str, Any]]]
    folder: Path

    @contextmanager
    def copy(self) -> Iterator[Database]:
        """A copy of the demo database (SQLite: the file through SQLite's backup; PostgreSQL:
        `CREATE DATABASE ... TEMPLATE`), deleted afterwards."""
        if self.url.startswith("sqlite"):
            path = self.folder / f"demo_{secrets.token_hex(4)}.db"
            source = sqlite3.connect(self.url.split("///", 1)[1])
            target = sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            copies: Any = _file_copy(f"sqlite:///{path}", path)
        else:
            copies = _postgres_database("mc_demo", template=make_url(self.url).database)
        with copies as url:
            engine = make_engine(url)
            try:
                yield Database(url, engine, make_sessionmaker(engine), self.seeded)
            finally:
                engine.dispose()


@contextmanager
def _file_copy(url: str, path: Path) -> Iterator[str]:
    try:
        yield url
    finally:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


def _build_demo(url: str, settings: Settings) -> tuple[Demo, dict[str, list[dict[str, Any]]]]:
    """Migrate the empty database at `url` and run `ensure_demo` on it, noting what
    `create_demo` made (while its session is still open)."""
    from mesoclinic.demo import seed

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        seeded = _seeded(engine)
        noted: list[tuple[dict[uuid.UUID, str], dict[str, Any]]] = []
        create_demo = seed.create_demo

        def noting(session: Session, settings: Settings) -> Any:
            ctx = create_demo(session, settings)
            noted.append(({p.id: story for p, story in ctx.patients}, dict(ctx.extra)))
            return ctx

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(seed, "create_demo", noting)
            created = seed.ensure_demo(make_sessionmaker(engine), settings)
        storyline, extra = noted[0] if noted else ({}, {})
        return Demo(created, storyline, extra, settings), seeded
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def demo_template(
    database_url: str, settings_for: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoTemplate]:
    """The demo clinic built once per test session (per xdist worker) and database kind."""
    folder = tmp_path_factory.mktemp("demo")
    if database_url.startswith("sqlite"):
        made: Any = _file_copy(f"sqlite:///{folder / 'template.db'}", folder / "template.db")
    else:
        made = _postgres_database("mc_demo_template")
    with made as url:
        demo, seeded = _build_demo(url, settings_for(url))
        yield DemoTemplate(url, demo, seeded, folder)


@pytest.fixture(scope="session")
def demo_database(demo_template: DemoTemplate) -> Iterator[Database]:
    """One copy of the demo clinic shared by the tests that roll back their transaction."""
    with demo_template.copy() as db:
        yield db


@pytest.fixture(scope="session")
def app_for_demo(
    demo_database: Database, demo_template: DemoTemplate, settings_for: Any
) -> Iterator[FastAPI]:
    """The app on the shared copy, with the demo's data folder (its images)."""
    settings = settings_for(demo_database.url, data_dir=demo_template.demo.settings.data_dir)
    demo_app = create_app(settings, run_migrations=False)
    yield demo_app
    demo_app.state.engine.dispose()


@pytest.fixture(params=["demo"])
def demo(db: Database, demo_template: DemoTemplate) -> Demo:
    """Ask for `demo` and the test's `db`, `app` and `anon` are the demo clinic (built once per
    session; a rolled-back transaction on a shared copy, or for `committed` tests a copy of
    their own), instead of an empty database. (The one parameter marks the test's id,
    `[sqlite-demo]`, for the scheduler: see `pytest_xdist_make_scheduler`.)"""
    return demo_template.demo


COMMITTED = "committed"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{COMMITTED}: the test needs real commits (servers, subprocesses, CLI commands, threads "
        "on their own connections); the database is emptied afterwards instead of rolled back",
    )


# The longest tests (seconds on the 2-core test machine): started first, so that no worker is
# left running one of them alone at the end of the run.
SLOW_FIRST = (
    "test_bench_api_load.py",
    "drills/test_schemathesis.py",
    "drills/test_route_matrix.py",
    "test_multi_server.py",
    "drills/test_races_across_servers.py",
    "drills/test_kill9.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slowest files start first (see SLOW_FIRST), keeping the order of the database kinds
    pytest chose (a worker switching kinds sets up the other database again)."""
    kinds: dict[str, int] = {}

    def key(item: pytest.Item) -> tuple[int, int]:
        callspec = getattr(item, "callspec", None)
        kind = str(callspec.params.get("database_url", "")) if callspec else ""
        path = item.nodeid.split("::", 1)[0]
        slow = next((i for i, name in enumerate(SLOW_FIRST) if path.endswith(name)), None)
        return kinds.setdefault(kind, len(kinds)), len(SLOW_FIRST) if slow is None else slow

    items.sort(key=key)


def demo_group(nodeid: str) -> str | None:
    """`demo_<kind>` for a test of the demo clinic (its id ends `[<kind>-demo]`), else None."""
    params = nodeid.rsplit("[", 1)[-1].rstrip("]").split("-") if nodeid.endswith("]") else []
    if "demo" not in params:
        return None
    return "demo_" + "_".join(p for p in params if p != "demo")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` here: tests one at a time, as `load` sends them, except that the
    demo clinic's tests of one database kind go to one worker together (so each worker builds
    at most one demo clinic), largest groups first. (xdist's own loadgroup reads
    `xdist_group` marks through `item._nodeid`, which pytest 9 no longer uses.)"""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class DemoGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return demo_group(nodeid) or nodeid

    return DemoGroups(config, log)


def _wants_demo(request: pytest.FixtureRequest) -> bool:
    return "demo" in request.fixturenames


@pytest.fixture
def db(request: pytest.FixtureRequest, database_url: str) -> Iterator[Database]:
    """A clean database for one test: a transaction rolled back at the end, or, for tests marked
    `committed`, the database itself, emptied afterwards. Tests asking for `demo` get the demo
    clinic instead of an empty database (see `demo`). (`database_url` makes every test run
    once per database kind.)"""
    committed = request.node.get_closest_marker(COMMITTED) is not None
    if committed and _wants_demo(request):
        template: DemoTemplate = request.getfixturevalue("demo_template")
        with template.copy() as own:
            yield own
        return
    database: Database = request.getfixturevalue(
        "demo_database" if _wants_demo(request) else "database"
    )
    if committed:
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
def app(request: pytest.FixtureRequest, db: Database, settings_for: Any) -> Iterator[FastAPI]:
    """The app, its requests joining the test's transaction unless the test is `committed`."""
    if _wants_demo(request) and db.connection is None:  # the test's own copy of the demo
        template: DemoTemplate = request.getfixturevalue("demo_template")
        settings = settings_for(db.url, data_dir=template.demo.settings.data_dir)
        own_app = create_app(settings, run_migrations=False)
        yield own_app
        own_app.state.engine.dispose()
        return
    shared: FastAPI = request.getfixturevalue(
        "app_for_demo" if _wants_demo(request) else "app_for_database"
    )
    if db.connection is None:
        yield shared
        return
    own = shared.state.sessionmaker
    shared.state.sessionmaker = db.factory
    try:
        yield shared
    finally:
        shared.state.sessionmaker = own


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
