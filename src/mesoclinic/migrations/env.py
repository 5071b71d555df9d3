"""Alembic environment: runs on the connection handed over by mesoclinic.migrate."""

from __future__ import annotations

from alembic import context

from mesoclinic.models_registry import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand without mesoclinic
    from mesoclinic.config import get_settings
    from mesoclinic.db import make_engine

    engine = make_engine(get_settings().resolved_database_url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
