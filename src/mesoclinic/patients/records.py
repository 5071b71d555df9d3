"""The API's hot patient reads as plain rows: one record and a search page answered from the
columns of `PatientRead`, with the same permission, scope check, query and audit entry as
`service.get` and `service.find` (which return ORM objects for the pages and the services).

Building a `Patient` object (25 columns, five lazy relationships) cost more than the rest of
the read's SQL; a row of the same columns is what the API's schema is made from anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session

from mesoclinic.errors import NotFound
from mesoclinic.patients import service
from mesoclinic.patients.models import Patient
from mesoclinic.patients.schemas import PatientRead
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

PATIENTS = cast(Table, Patient.__table__)
# The columns of the API's patient record (`PatientRead`).
RECORD_COLUMNS = tuple(PATIENTS.c[name] for name in PatientRead.model_fields)
_RECORD = select(*RECORD_COLUMNS).where(PATIENTS.c.id == bindparam("patient_id"))


def get_record(session: Session, actor: Actor, patient_id: uuid.UUID) -> Row[Any]:
    """`get` as a plain row of `RECORD_COLUMNS`: same permission, scope check and audit entry."""
    actor.require(Permission.PATIENT_READ)
    row = session.execute(_RECORD, {"patient_id": patient_id}).first()
    if row is None:
        raise NotFound("Patient not found")
    actor.check_patient_scope(row.clinic_id, row.id)
    audit.record(
        session, actor, "read", "patient", row.id, patient_id=row.id, clinic_id=row.clinic_id
    )
    return row


@dataclass(frozen=True)
class FoundRecords:
    """`Found` as plain rows of `RECORD_COLUMNS` (the API's search answers from these)."""

    rows: Sequence[Row[Any]]
    total: int
    capped: bool


def find_records(
    session: Session, actor: Actor, query: service.PatientQuery, *, limit: int = 25, offset: int = 0
) -> FoundRecords:
    """`find` answering plain rows: the same query, count and audit entry, no ORM objects."""
    actor.require(Permission.PATIENT_READ)
    stmt = service.search_query(actor, query)
    session.flush()  # as autoflush would: the rows come through the connection, not the ORM
    page = service.page_of(stmt, query, limit, offset).with_only_columns(*RECORD_COLUMNS)
    rows = session.connection().execute(page).all()
    counted = service.count_matches(session, stmt, query, len(rows), limit, offset)
    service.audit_search(session, actor, query, [r.id for r in rows])
    return FoundRecords(rows, min(counted, service.COUNT_CAP), counted > service.COUNT_CAP)
