"""security: drop users.failed_logins and users.locked_until

Lock-out is counted per username in login_throttle (so unknown names are slowed too); the two
per-user columns were never read.

Revision ID: 0009_drop_user_lockout_columns
Revises: 0008_audit_sealing
Create Date: 2026-11-25 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0009_drop_user_lockout_columns"
down_revision: str | Sequence[str] | None = "0008_audit_sealing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("locked_until", mesoclinic.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("failed_logins", server_default=None)
