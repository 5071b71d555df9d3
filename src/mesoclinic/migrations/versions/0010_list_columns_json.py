"""List fields as JSON columns instead of joined strings

Ingredient aliases, a visit's zones and confirmed warnings, a clinic's opening weekdays
(comma-joined) and its rooms (one per line).
Each column is replaced (add, copy, drop, rename) rather than altered so SQLite keeps the
table and its foreign keys: rebuilding `visits` would break the rows that refer to it. The new
columns carry a '[]' server default because SQLite adds a NOT NULL column only with one.

Revision ID: 0010_list_columns_json
Revises: 0009_drop_user_lockout_columns
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010_list_columns_json"
down_revision: str | Sequence[str] | None = "0009_drop_user_lockout_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, column, type before this revision, separator it joined with, type of one list item
COLUMNS: list[tuple[str, str, sa.types.TypeEngine[Any], str, type]] = [
    ("ingredients", "aliases", sa.String(length=300), ",", str),
    ("visits", "zones", sa.String(length=120), ",", str),
    ("visits", "confirmed_warnings", sa.Text(), ",", str),
    ("clinic_schedules", "opening_weekdays", sa.String(length=20), ",", int),
    ("clinic_schedules", "rooms", sa.String(length=400), "\n", str),
]


def _split(separator: str, item: type) -> Callable[[str | None], list[Any]]:
    return lambda text: [item(part) for part in (text or "").split(separator) if part.strip()]


def _join(separator: str) -> Callable[[list[Any] | None], str]:
    return lambda values: separator.join(str(v) for v in values or [])


def _replace(
    table: str,
    column: str,
    new_type: sa.types.TypeEngine[Any],
    default: str,
    convert: Callable[[Any], Any],
    old_type: sa.types.TypeEngine[Any],
) -> None:
    temporary = f"{column}_new"
    op.add_column(
        table, sa.Column(temporary, new_type, nullable=False, server_default=sa.text(default))
    )
    source = sa.table(table, sa.column("id", sa.Uuid()), sa.column(column, old_type))
    target = sa.table(table, sa.column("id", sa.Uuid()), sa.column(temporary, new_type))
    bind = op.get_bind()
    for row_id, value in bind.execute(sa.select(source.c.id, source.c[column])).all():
        bind.execute(
            target.update().where(target.c.id == row_id).values({temporary: convert(value)})
        )
    op.drop_column(table, column)
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {temporary} TO {column}")


def upgrade() -> None:
    for table, column, old_type, separator, item in COLUMNS:
        _replace(table, column, sa.JSON(), "'[]'", _split(separator, item), old_type)


def downgrade() -> None:
    for table, column, old_type, separator, _item in COLUMNS:
        _replace(table, column, old_type, "''", _join(separator), sa.JSON())
