"""security: login throttle per username and client address

One row per (username, client address), plus a username-wide row (address "*") that counts only
failures from addresses that never signed in (issue 16, item 15). The old per-username counters
are short-lived state, so the table is recreated rather than converted.

Revision ID: 0013_login_throttle_by_address
Revises: 0012_clinic_admin
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mesoclinic.db

revision: str = "0013_login_throttle_by_address"
down_revision: str | Sequence[str] | None = "0012_clinic_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, mesoclinic.db.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("client_addr", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("locked_until"),
        _when("last_failure_at"),
        _when("succeeded_at"),
        sa.PrimaryKeyConstraint("username", "client_addr", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("locked_until"),
        _when("last_failure_at"),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttle")),
    )
