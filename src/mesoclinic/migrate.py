"""Apply Alembic migrations programmatically (on start-up and `mesoclinic db upgrade`).

Alembic (with Mako) is imported by the functions that use it, not here: every command imports
this module, and `mesoclinic --help` must not pay for loading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.config import Settings, get_settings
from mesoclinic.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is current."""
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
    """The schema version the database is at, as shown by /healthz."""
    from alembic.runtime.migration import MigrationContext

    if isinstance(bind, Connection):
        heads = MigrationContext.configure(bind).get_current_heads()
    else:
        with bind.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or "none"


def newest_revision() -> str:
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
