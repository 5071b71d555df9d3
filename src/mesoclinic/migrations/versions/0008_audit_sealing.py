"""Audit entries are inserted unsealed and chained later; signed audit checkpoints.

`seq`, `prev_hash` and `hash` become nullable: a request's entry has them only once the sealer
has given it its place in the chain. Existing rows are already sealed and keep their values.

Revision ID: 0008_audit_sealing
Revises: 0007_outcomes
Create Date: 2026-11-30 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0008_audit_sealing"
down_revision: str | Sequence[str] | None = "0007_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAIN_COLUMNS = (
    ("seq", sa.Integer()),
    ("prev_hash", sa.String(length=64)),
    ("hash", sa.String(length=64)),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name, type_ in CHAIN_COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", mesoclinic.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:
    """Seal everything first (`mesoclinic audit seal`): unsealed rows cannot go back."""
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name, type_ in CHAIN_COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
