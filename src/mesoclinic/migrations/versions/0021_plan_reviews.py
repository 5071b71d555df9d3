"""outcomes: plan_reviews, a clinician's "continue unchanged" after a non-responder verdict

The dashboard's "review the plan" list leaves out a patient whose active plan was reviewed
after the newest measurement; a newer value brings the patient back.

Revision ID: 0021_plan_reviews
Revises: 0020_analytics_rows
Create Date: 2026-12-02 02:25:48.143345
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0021_plan_reviews"
down_revision: str | Sequence[str] | None = "0020_analytics_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_reviews",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("evidence_until", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=80), nullable=False),
        sa.Column("reviewed_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_plan_reviews_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_plan_reviews_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plans.id"],
            name=op.f("fk_plan_reviews_plan_id_treatment_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reviews")),
    )
    op.create_index(
        "ix_plan_reviews_patient_reviewed", "plan_reviews", ["patient_id", "reviewed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_plan_reviews_patient_reviewed", table_name="plan_reviews")
    op.drop_table("plan_reviews")
