"""analytics: saved cohort definitions, and indexes for the cohort queries

Revision ID: 0016_analytics
Revises: 0015_search_indexes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0016_analytics"
down_revision: str | Sequence[str] | None = "0015_search_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_cohorts",
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("created_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_analytics_cohorts_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_cohorts")),
        sa.UniqueConstraint("scope", "name", name="uq_analytics_cohorts_scope_name"),
    )
    with op.batch_alter_table("analytics_cohorts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_cohorts_clinic_id"), ["clinic_id"], unique=False
        )
    op.create_index(
        "ix_measurements_kind_patient",
        "measurements",
        ["kind", "patient_id", "measured_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_measurements_kind_patient", table_name="measurements")
    with op.batch_alter_table("analytics_cohorts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_cohorts_clinic_id"))
    op.drop_table("analytics_cohorts")
