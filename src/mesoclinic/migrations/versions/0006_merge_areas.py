"""Join the area branches (assessment, visits, plans, aftercare) into one history.

Revision ID: 0006_merge_areas
Revises: 0002_assessment, 0003_visits, 0004_plans, 0005_aftercare
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

revision: str = "0006_merge_areas"
down_revision: str | Sequence[str] | None = (
    "0002_assessment",
    "0003_visits",
    "0004_plans",
    "0005_aftercare",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """No schema change: later revisions build on this single head."""


def downgrade() -> None:
    """No schema change."""
