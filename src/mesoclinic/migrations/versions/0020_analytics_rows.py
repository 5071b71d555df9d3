"""analytics rows: each patient's cohort row and outcome values, derived on write

`analytics_patients` (one row per treated patient: first session, latest assessment and plan,
PRP, clinic, sex, birth date), `analytics_outcomes` (per patient, measurement kind and time
point: the nearest value's change from baseline) and `analytics_state` (the definition they were
built with). The upgrade fills them from the clinical tables with the same INSERT ... SELECT as
`mesoclinic analytics rebuild` (`analytics.rows.rebuild`); from then on every flush keeps them
up to date (docs/analytics.md, "Derived rows"). If a later migration changes a table they are
read from, that migration (or the operator) runs the rebuild again; until then, a definition
that differs makes the reads derive each cohort per request, as before this revision.

Revision ID: 0020_analytics_rows
Revises: 0019_trigram_search
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0020_analytics_rows"
down_revision: str | Sequence[str] | None = "0019_trigram_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_patients",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("t0", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("diagnosis", sa.String(length=32), nullable=True),
        sa.Column("scale", sa.String(length=20), nullable=True),
        sa.Column("grade", sa.String(length=12), nullable=True),
        sa.Column("cocktail_id", sa.Uuid(), nullable=False),
        sa.Column("protocol", sa.String(length=60), nullable=True),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("prp", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_analytics_patients")),
    )
    op.create_index(
        "ix_analytics_patients_clinic_t0", "analytics_patients", ["clinic_id", "t0"], unique=False
    )
    op.create_table(
        "analytics_outcomes",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("tp", sa.String(length=12), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("pct_max", sa.Float(), nullable=True),
        sa.Column("pct_min", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("patient_id", "kind", "tp", name=op.f("pk_analytics_outcomes")),
    )
    op.create_index(
        "ix_analytics_outcomes_kind_tp", "analytics_outcomes", ["kind", "tp"], unique=False
    )
    op.create_table(
        "analytics_exposures",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("dimension", sa.String(length=12), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("technique", sa.String(length=40), nullable=True),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("cocktail_id", sa.Uuid(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_analytics_exposures_dimension_patient",
        "analytics_exposures",
        ["dimension", "patient_id"],
        unique=False,
    )
    op.create_index(
        "ix_analytics_exposures_patient", "analytics_exposures", ["patient_id"], unique=False
    )
    op.create_table(
        "analytics_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("built_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_state")),
    )
    # The backfill: the code's own statements, so the rows are exactly what a write would make.
    from mesoclinic.analytics import rows

    rows.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("analytics_state")
    op.drop_index("ix_analytics_exposures_patient", table_name="analytics_exposures")
    op.drop_index("ix_analytics_exposures_dimension_patient", table_name="analytics_exposures")
    op.drop_table("analytics_exposures")
    op.drop_index("ix_analytics_outcomes_kind_tp", table_name="analytics_outcomes")
    op.drop_table("analytics_outcomes")
    op.drop_index("ix_analytics_patients_clinic_t0", table_name="analytics_patients")
    op.drop_table("analytics_patients")
