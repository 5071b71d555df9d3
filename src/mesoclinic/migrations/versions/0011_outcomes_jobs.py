"""outcomes jobs: room for the imaging code's full algorithm version names

The imaging code names a version like "mesoclinic-trichoscopy 0.3.1 (exit-cnn-2, rescore-cnn-2)"
(56 characters); 0007 gave algorithm_version 40 and the job's work key (which holds two image
ids and the version) 120. PostgreSQL refuses longer values, SQLite did not notice.

Revision ID: 0011_outcomes_jobs
Revises: 0010_list_columns_json
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_outcomes_jobs"
down_revision: str | Sequence[str] | None = "0010_list_columns_json"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSION_COLUMNS = ("measurements", "analysis_jobs", "image_analyses")


def upgrade() -> None:
    for table in VERSION_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "algorithm_version",
                existing_type=sa.String(length=40),
                type_=sa.String(length=120),
            )
    with op.batch_alter_table("analysis_jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "work_key", existing_type=sa.String(length=120), type_=sa.String(length=240)
        )


def downgrade() -> None:
    with op.batch_alter_table("analysis_jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "work_key", existing_type=sa.String(length=240), type_=sa.String(length=120)
        )
    for table in VERSION_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "algorithm_version",
                existing_type=sa.String(length=120),
                type_=sa.String(length=40),
            )
