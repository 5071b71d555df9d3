"""The append-only, hash-chained audit log: record, verify and browse."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesoclinic.db import utcnow
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "clinic_id",
    "action",
    "entity_type",
    "entity_id",
    "patient_id",
    "client_addr",
    "detail",
    "prev_hash",
)


def entry_hash(values: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields and the previous hash."""
    canonical = {k: _canonical(values[k]) for k in HASHED_FIELDS}
    data = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


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
    """Append one entry; the head row lock serialises concurrent writers."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, last_hash=GENESIS_HASH)
        session.add(head)
    values: dict[str, Any] = {
        "seq": head.seq + 1,
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
        "prev_hash": head.last_hash,
    }
    values["hash"] = entry_hash(values)
    session.add(AuditEntry(**values))
    head.seq = values["seq"]
    head.last_hash = values["hash"]
    session.flush()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


def verify_chain(entries: Iterable[AuditEntry], head: AuditHead | None) -> ChainReport:
    """Walk the chain in order; name the first entry that was altered, removed or inserted."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in entries:
        values = {k: getattr(entry, k) for k in HASHED_FIELDS}
        if entry.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                expected_seq,
                f"entry {expected_seq} is missing (found {entry.seq} next)",
            )
        if entry.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                entry.seq,
                f"entry {entry.seq} does not follow entry {entry.seq - 1}",
            )
        if entry_hash(values) != entry.hash:
            return ChainReport(
                False,
                checked,
                entry.seq,
                f"entry {entry.seq} was altered (its hash does not match)",
            )
        expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head_seq = head.seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(
            False,
            checked,
            checked + 1,
            f"entries after {checked} were removed (the chain head is at {head_seq})",
        )
    return ChainReport(True, checked)


def verify(session: Session) -> ChainReport:
    """Verify the whole stored chain."""
    entries = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    ).scalars()
    head = session.get(AuditHead, 1)
    return verify_chain(entries, head)


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
    """Browse entries newest first; a clinic admin only ever sees their clinic's entries."""
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
        session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset))
        .scalars()
        .all()
    )
    return rows, total
