"""security: the clinic_admin role; an admin tied to a clinic becomes that clinic's admin

Until now an account with role `admin` and a clinic had group-wide access (issue 16, item 19).
The group administrator now belongs to no clinic, and the administrator of one clinic has the
role `clinic_admin`, scoped to it. Such accounts were created to administer their clinic, so
they keep that and lose the other clinics (the command line still acts as group admin).

Revision ID: 0012_clinic_admin
Revises: 0011_outcomes_jobs
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_clinic_admin"
down_revision: str | Sequence[str] | None = "0011_outcomes_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("users", sa.column("role", sa.String), sa.column("clinic_id"))


def upgrade() -> None:
    op.execute(
        users.update()
        .where(users.c.role == "admin", users.c.clinic_id.is_not(None))
        .values(role="clinic_admin")
    )


def downgrade() -> None:
    # Back to the old single role; the clinic column keeps who they administered.
    op.execute(users.update().where(users.c.role == "clinic_admin").values(role="admin"))
