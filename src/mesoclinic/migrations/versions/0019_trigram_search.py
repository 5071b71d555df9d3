"""trigram indexes: a part of a name is found without reading every patient (PostgreSQL)

Patient search matches a typed name of three characters or more anywhere in the given or family
name (`family_key LIKE '%art%'`, issue 18). On PostgreSQL the `pg_trgm` extension's GIN
indexes serve that; a prefix keeps its b-tree range scan (0015). On SQLite this is a no-op: the
contains-search reads a clinic's covering list index (docs/performance.md, "Search").

`CREATE EXTENSION pg_trgm` needs a role allowed to create it (a superuser, or since PostgreSQL 13
the database owner: pg_trgm is a trusted extension). Where it cannot be created the migration
logs a warning and leaves the indexes out: search still works, by reading the clinic's rows.
`mesoclinic db upgrade` run again by a role that can will not add them (the revision is
applied); create them by hand then (docs/performance.md).

Revision ID: 0019_trigram_search
Revises: 0018_fhir_external_visits
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_trigram_search"
down_revision: str | Sequence[str] | None = "0018_fhir_external_visits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("mesoclinic.migrations")

INDEXES = (
    ("ix_patients_family_key_trgm", "family_key"),
    ("ix_patients_given_key_trgm", "given_key"),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        log.warning(
            "pg_trgm could not be created (%s): patient search by a part of a name will read "
            "the clinic's rows instead of a trigram index; see docs/performance.md",
            str(error.orig).strip().splitlines()[0],
        )
        return
    savepoint.commit()
    for name, column in INDEXES:
        op.create_index(
            name,
            "patients",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            # Patients are read far more than registered: new entries go straight into the
            # index (no pending list the planner would have to cost, and scan, on every search).
            postgresql_with={"fastupdate": "off"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _ in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    # The extension stays: other databases' objects may use it, and it costs nothing idle.
