"""visits: external_visits, sessions recorded elsewhere (imported from a FHIR referral)

A Procedure and its MedicationAdministrations imported by `POST /fhir` become one row here, not
a `visits` row: no cocktail, lot or practitioner of this clinic, no stock drawn, no safety
checks; product, lots, dose and performer are kept as the sender's text.

Revision ID: 0018_fhir_external_visits
Revises: 0017_fhir_bulk
Create Date: 2026-12-01 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0018_fhir_external_visits"
down_revision: str | Sequence[str] | None = "0017_fhir_bulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "external_visits",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("performed_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("procedure", sa.String(length=200), nullable=False),
        sa.Column("technique", sa.String(length=20), nullable=True),
        sa.Column("zones", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("performer", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("complications", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("administrations", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "completed",
                "entered-in-error",
                name="visitstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_external_visits_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_external_visits_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_visits")),
    )
    with op.batch_alter_table("external_visits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_visits_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            "ix_external_visits_patient_performed", ["patient_id", "performed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("external_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_external_visits_patient_performed")
        batch_op.drop_index(batch_op.f("ix_external_visits_clinic_id"))
    op.drop_table("external_visits")
