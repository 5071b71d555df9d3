"""The append-only, hash-chained audit log: record, verify and browse.

Recording takes no lock on anything shared: a request inserts its entries unsealed, in its own
transaction. `audit_seal.seal` (the worker, `mesoclinic audit seal`, and `audit verify`) later
chains the committed entries in order; see docs/decisions.md for what holds before and after.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from mesoclinic.db import DEFERRED_WRITES, utcnow
from mesoclinic.security.actor import Actor
from mesoclinic.security.audit_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    ChainReport,
    entry_hash,
    verify_chain,
    verify_checkpoints,
)
from mesoclinic.security.models import AuditCheckpoint, AuditEntry, AuditHead

AUDIT_TABLE = cast(Table, AuditEntry.__table__)
# Built once, run with each entry's values: building the statement per entry costs more.
_INSERT_ENTRY = insert(AUDIT_TABLE)

__all__ = [
    "GENESIS_HASH",
    "HASHED_FIELDS",
    "ChainReport",
    "entry_hash",
    "record",
    "search",
    "verify",
    "verify_chain",
]


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one unsealed entry to the caller's transaction (no shared row is locked).

    In a SQLite read transaction the insert is queued for the short write that follows it.
    """
    values: dict[str, Any] = {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_username": actor.username,
        "actor_role": str(actor.role),
        "clinic_id": clinic_id or actor.clinic_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "patient_id": patient_id,
        "client_addr": actor.client_addr,
        "detail": json.dumps(detail, sort_keys=True, default=str) if detail else "",
    }
    queued = session.info.get(DEFERRED_WRITES)
    if queued is not None:
        queued.append(partial(_insert, values=values))
        return
    _insert(session, values)


def _insert(session: Session, values: dict[str, Any]) -> None:
    """One plain INSERT on the table (no ORM object to track). The session's pending changes
    are flushed first, as before, so their errors still surface here (a no-op when clean)."""
    session.flush()
    session.execute(_INSERT_ENTRY, values)


def _insert_all(session: Session, rows: list[dict[str, Any]]) -> None:
    """One executemany for the whole list (ORM objects would be one INSERT each)."""
    session.execute(insert(AuditEntry), rows)


def record_patient_reads(
    session: Session,
    actor: Actor,
    patients: Sequence[tuple[uuid.UUID, uuid.UUID]],
    *,
    via: str,
) -> None:
    """One `read` entry per patient (id, clinic id) shown by a list page, written in one batch."""
    at = utcnow()
    seen: dict[uuid.UUID, uuid.UUID] = dict(patients)  # one entry per patient, first wins
    rows = [
        {
            "at": at,
            "actor_id": actor.user_id,
            "actor_username": actor.username,
            "actor_role": str(actor.role),
            "clinic_id": clinic_id,
            "action": "read",
            "entity_type": "patient",
            "entity_id": str(patient_id),
            "patient_id": patient_id,
            "client_addr": actor.client_addr,
            "detail": json.dumps({"via": via}),
        }
        for patient_id, clinic_id in seen.items()
    ]
    if not rows:
        return
    queued = session.info.get(DEFERRED_WRITES)
    if queued is not None:
        queued.append(partial(_insert_all, rows=rows))
        return
    _insert_all(session, rows)


def record_refused_read(
    session: Session,
    actor: Actor,
    *,
    route: str,
    status: int,
    path_ids: dict[str, str],
) -> None:
    """A read refused with 403/404: who asked, for what, by which route (the caller's answer is
    unchanged, so existence never leaks; the patient id is the one asked for, when named)."""
    patient_id = None
    named = path_ids.get("patient_id")
    if named is None and route.startswith("/fhir/Patient/{"):  # FHIR names it resource_id
        named = path_ids.get("resource_id")
    if named is not None:
        try:
            patient_id = uuid.UUID(named)
        except ValueError:
            patient_id = None
    first_id = next(iter(path_ids.values()), None)
    record(
        session,
        actor,
        "read-refused",
        route.split("/{", 1)[0].rsplit("/", 1)[-1][:40] or "route",
        first_id[:64] if first_id else None,
        patient_id=patient_id,
        detail={"route": route, "status": status, **path_ids},
    )


def verify(
    session: Session,
    *,
    key: bytes | None = None,
    stale_after: timedelta | None = None,
    now: datetime | None = None,
) -> ChainReport:
    """Verify the sealed chain, its signed checkpoints (with `key`), and, with `stale_after`,
    that no committed entry has waited longer than that to be sealed."""
    unsealed, oldest = session.execute(
        select(func.count(), func.min(AuditEntry.at)).where(AuditEntry.seq.is_(None))
    ).one()
    entries = session.execute(
        select(AuditEntry)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    head = session.get(AuditHead, 1)
    report = replace(verify_chain(entries, head), unsealed=unsealed)
    if not report.ok:
        return report
    if key is not None:
        rows = session.execute(
            select(AuditCheckpoint, AuditEntry.hash)
            .outerjoin(AuditEntry, AuditEntry.seq == AuditCheckpoint.seq)
            .order_by(AuditCheckpoint.seq)
        )
        signed = ((checkpoint, chain_hash) for checkpoint, chain_hash in rows)
        checked = verify_checkpoints(signed, key, report.checked)
        report = replace(checked, checked=report.checked, unsealed=unsealed)
        if not report.ok:
            return report
    if stale_after is not None and oldest is not None and (now or utcnow()) - oldest > stale_after:
        return replace(
            report,
            ok=False,
            problem=f"{unsealed} entries wait to be sealed, the oldest since "
            f"{oldest:%Y-%m-%d %H:%M} UTC: is `mesoclinic worker` running?",
        )
    return report


@dataclass(frozen=True)
class AuditFilter:
    actor_username: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    patient_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(
    session: Session, actor: Actor, filt: AuditFilter, *, limit: int = 50, offset: int = 0
) -> tuple[Sequence[AuditEntry], int]:
    """Browse entries newest first, unsealed ones included (their `seq` is still empty); a
    clinic admin only ever sees their clinic's entries."""
    query = select(AuditEntry)
    if not actor.is_group_admin:
        query = query.where(AuditEntry.clinic_id == actor.clinic_id)
    if filt.actor_username:
        query = query.where(AuditEntry.actor_username == filt.actor_username)
    if filt.action:
        query = query.where(AuditEntry.action == filt.action)
    if filt.entity_type:
        query = query.where(AuditEntry.entity_type == filt.entity_type)
    if filt.entity_id:
        query = query.where(AuditEntry.entity_id == filt.entity_id)
    if filt.patient_id:
        query = query.where(AuditEntry.patient_id == filt.patient_id)
    if filt.since:
        query = query.where(AuditEntry.at >= filt.since)
    if filt.until:
        query = query.where(AuditEntry.at < filt.until)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = (
        session.execute(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
        .scalars()
        .all()
    )
    return rows, total
