"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import event, text

from mesoclinic import migrate
from mesoclinic.db import make_engine
from mesoclinic.models_registry import metadata


def test_migrated_schema_matches_the_models(db):
    dialect = db.engine.dialect.name

    def on_this_database(obj, _name, _type, _reflected, _compare_to):
        # An index declared `.ddl_if(dialect=...)` (the trigram indexes) exists on that one only.
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return only is None or only == dialect

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": on_this_database}
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_database_is_at_the_newest_revision(db):
    assert migrate.current_revision(db.engine) == migrate.newest_revision()


def test_health_reports_the_schema_version(anon):
    body = anon.get("/healthz").json()
    assert body["status"] == "ok" and body["schema_version"] == migrate.newest_revision()


def test_the_head_revision_constant_is_alembics_head():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert heads == [migrate.HEAD_REVISION], (
        f"Alembic's head is {heads}: set HEAD_REVISION in src/mesoclinic/migrate.py to the new "
        "migration's revision (start-up compares the database with it instead of loading Alembic)"
    )


def _statements(engine, action):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return [s for s in seen if not s.upper().startswith(("BEGIN", "PRAGMA"))]


def test_a_database_at_the_head_is_checked_with_one_query(db):
    assert migrate.at_head(db.engine)
    statements = _statements(db.engine, lambda: migrate.upgrade(db.engine))
    assert statements == ["SELECT version_num FROM alembic_version"]


def test_an_empty_database_is_migrated_and_an_older_one_brought_to_the_head(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    assert not migrate.at_head(engine) and migrate.current_revision(engine) == "none"
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    cfg = migrate.alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "-1")
    assert not migrate.at_head(engine)
    migrate.upgrade(engine)
    assert migrate.at_head(engine)
    engine.dispose()


def test_a_database_newer_than_this_version_is_refused_not_changed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(CommandError, match="9999_future"):
        migrate.upgrade(engine)
    assert migrate.current_revision(engine) == "9999_future"
    engine.dispose()
