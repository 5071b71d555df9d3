"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mesoclinic import migrate
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
