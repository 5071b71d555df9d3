"""Apply Alembic migrations programmatically (on start-up and `mesoclinic db upgrade`).

Alembic (with Mako) is imported by the functions that use it, not here: every command imports
this module, and `mesoclinic --help` must not pay for loading it. A database already at
`HEAD_REVISION` is recognised by one query on `alembic_version`, without Alembic (issue 18:
`serve` starts without loading it); only a database to migrate loads Alembic and its scripts.
`tests/test_migrations.py` fails when `HEAD_REVISION` is not Alembic's real head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.config import Settings, get_settings
from mesoclinic.db import SQLITE_BEGIN, make_engine, make_sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision: a new migration changes it in the same commit (a test compares
# it with Alembic's head, so a forgotten update fails the suite, and never a start-up).
HEAD_REVISION = "0021_plan_reviews"
VERSIONS_QUERY = text("SELECT version_num FROM alembic_version")


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def at_head(engine: Engine) -> bool:
    """Whether the database is at `HEAD_REVISION`: one query, no Alembic, no write lock."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        try:
            versions = connection.execute(VERSIONS_QUERY).scalars().all()
        except (OperationalError, ProgrammingError):
            return False  # no `alembic_version` table yet: an empty database
    return versions == [HEAD_REVISION]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is current.

    A database at the head costs one query; any other (empty, older, or at a revision this
    version does not know) goes to Alembic, which migrates it or refuses with its own message.
    """
    if at_head(engine):
        return
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def open_database(settings: Settings | None = None) -> tuple[Settings, sessionmaker[Session]]:
    """Settings and a migrated session factory for a command or job."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return settings, make_sessionmaker(engine)


def current_revision(bind: Engine | Connection) -> str:
    """The schema version the database is at, as shown by /healthz ("none" before the first
    migration); read from `alembic_version` without loading Alembic."""
    if isinstance(bind, Connection):
        return _versions(bind)
    with bind.connect() as connection:
        return _versions(connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"}))


def _versions(connection: Connection) -> str:
    if not inspect(connection).has_table("alembic_version"):
        return "none"
    heads = connection.execute(VERSIONS_QUERY).scalars().all()
    return ",".join(sorted(heads)) or "none"


def newest_revision() -> str:
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
