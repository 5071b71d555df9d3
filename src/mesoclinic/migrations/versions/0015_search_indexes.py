"""search indexes: normalised name and phone keys, bytewise search columns, awaiting-override flag

Patient search becomes prefix range scans on indexed columns (issue 18): `family_key` and
`given_key` (names lower-case, without accents or punctuation), `phone_reversed` (a number's
last digits are a prefix of it), and indexes on the record number and (clinic, birth date).
On PostgreSQL the searched columns use COLLATE "C" so a prefix range is the same bytewise range
as on SQLite whatever the database's default collation. `assessments.awaiting_override` stores
what the dashboard's override panel filtered in Python. Visits of a patient are read newest
first through (patient_id, performed_at); the review list reads measurements newest first.

The normalisation below is a frozen copy of mesoclinic.patients.search_keys (a migration must
not change when the application code does).

Revision ID: 0015_search_indexes
Revises: 0014_idempotency
"""

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015_search_indexes"
down_revision: str | Sequence[str] | None = "0014_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _key_type(length: int) -> sa.types.TypeEngine[Any]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _name_key(text: str | None) -> str:
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).replace("-", " ")
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", "", plain)).strip()


def _awaits_override(decision: dict[str, Any]) -> bool:
    overridden = {o["rule_id"] for o in decision.get("overrides", [])}
    findings = decision.get("contraindications", [])
    if decision.get("candidacy") == "not_recommended":
        findings = [*findings, *decision.get("candidacy_findings", [])]
    ids = [f["rule_id"] for f in findings if f["severity"] == "relative"]
    return any(i not in overridden for i in ids) and not decision.get("blocked")


def _backfill_patients() -> None:
    bind = op.get_bind()
    patients = sa.table(
        "patients",
        sa.column("id", sa.Uuid()),
        sa.column("given_name", sa.String()),
        sa.column("family_name", sa.String()),
        sa.column("phone_digits", sa.String()),
        sa.column("given_key", sa.String()),
        sa.column("family_key", sa.String()),
        sa.column("phone_reversed", sa.String()),
    )
    rows = bind.execute(
        sa.select(
            patients.c.id, patients.c.given_name, patients.c.family_name, patients.c.phone_digits
        )
    ).all()
    for start in range(0, len(rows), BATCH):
        bind.execute(
            sa.update(patients)
            .where(patients.c.id == sa.bindparam("pid"))
            .values(
                given_key=sa.bindparam("gk"),
                family_key=sa.bindparam("fk"),
                phone_reversed=sa.bindparam("pr"),
            ),
            [
                {
                    "pid": r.id,
                    "gk": _name_key(r.given_name),
                    "fk": _name_key(r.family_name),
                    "pr": r.phone_digits[::-1] if r.phone_digits else None,
                }
                for r in rows[start : start + BATCH]
            ],
        )


def _backfill_assessments() -> None:
    bind = op.get_bind()
    assessments = sa.table(
        "assessments",
        sa.column("id", sa.Uuid()),
        sa.column("decision", sa.JSON()),
        sa.column("awaiting_override", sa.Boolean()),
    )
    rows = bind.execute(sa.select(assessments.c.id, assessments.c.decision)).all()
    waiting = []
    for r in rows:
        decision = json.loads(r.decision) if isinstance(r.decision, str) else r.decision
        if decision and _awaits_override(decision):
            waiting.append({"aid": r.id})
    if waiting:
        bind.execute(
            sa.update(assessments)
            .where(assessments.c.id == sa.bindparam("aid"))
            .values(awaiting_override=True),
            waiting,
        )


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: a batch rebuild of `patients` on SQLite would break the
    # rows that refer to it (see 0010). The new NOT NULL columns carry a server default for
    # SQLite's sake; PostgreSQL drops it after the backfill and re-collates the searched columns.
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "patients", sa.Column("family_key", _key_type(100), nullable=False, server_default="")
    )
    op.add_column(
        "patients", sa.Column("given_key", _key_type(100), nullable=False, server_default="")
    )
    op.add_column("patients", sa.Column("phone_reversed", _key_type(40), nullable=True))
    op.add_column(
        "assessments",
        sa.Column("awaiting_override", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if postgres:
        for column, length in (("record_number", 20), ("phone_digits", 40)):
            op.alter_column(
                "patients", column, type_=_key_type(length), existing_type=sa.String(length)
            )
        for table, column in (
            ("patients", "family_key"),
            ("patients", "given_key"),
            ("assessments", "awaiting_override"),
        ):
            op.alter_column(table, column, server_default=None)
    _backfill_patients()
    _backfill_assessments()
    op.create_index("ix_patients_family_key", "patients", ["family_key", "given_key"])
    op.create_index("ix_patients_given_key", "patients", ["given_key"])
    op.create_index("ix_patients_phone_reversed", "patients", ["phone_reversed"])
    op.create_index("ix_patients_record_number", "patients", ["record_number"])
    op.create_index("ix_patients_clinic_birth_date", "patients", ["clinic_id", "birth_date"])
    op.create_index(
        "ix_patients_clinic_list",
        "patients",
        ["clinic_id", "status", "family_key", "given_key", "id"],
    )
    op.create_index(
        "ix_assessments_awaiting", "assessments", ["awaiting_override", "clinic_id", "assessed_at"]
    )
    op.create_index("ix_visits_patient_performed", "visits", ["patient_id", "performed_at"])
    op.create_index("ix_measurements_measured_at", "measurements", ["measured_at"])


def downgrade() -> None:
    op.drop_index("ix_measurements_measured_at", table_name="measurements")
    op.drop_index("ix_visits_patient_performed", table_name="visits")
    op.drop_index("ix_assessments_awaiting", table_name="assessments")
    for name in (
        "ix_patients_clinic_list",
        "ix_patients_clinic_birth_date",
        "ix_patients_record_number",
        "ix_patients_phone_reversed",
        "ix_patients_given_key",
        "ix_patients_family_key",
    ):
        op.drop_index(name, table_name="patients")
    if op.get_bind().dialect.name == "postgresql":
        for column, length in (("record_number", 20), ("phone_digits", 40)):
            op.alter_column(
                "patients", column, type_=sa.String(length), existing_type=_key_type(length)
            )
    op.drop_column("assessments", "awaiting_override")
    op.drop_column("patients", "phone_reversed")
    op.drop_column("patients", "given_key")
    op.drop_column("patients", "family_key")
