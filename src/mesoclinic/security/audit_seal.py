"""Sealing: give committed audit entries their place in the hash chain, and sign checkpoints.

Requests insert entries unsealed and lock nothing shared. The sealer is the only writer of the
chain: it locks the head row for one short transaction, so two sealers never fork the chain,
and it seals what is committed, in id order. On PostgreSQL ids can commit out of order (id 10
before id 9): 9 is simply sealed by a later pass with the next seq. `seq` is the chain's order,
`id` only the insertion identity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.config import Settings, shared_key_file
from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.security.audit_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    checkpoint_mac,
    entry_hash,
)
from mesoclinic.security.models import AuditCheckpoint, AuditEntry, AuditHead

log = logging.getLogger(__name__)
KEY_FILE = "audit.key"


@dataclass(frozen=True)
class CheckpointPolicy:
    """Sign the head once this many entries or seconds have passed since the last checkpoint."""

    every_entries: int = 1000
    every_seconds: float = 300


@dataclass(frozen=True)
class SealReport:
    sealed: int
    head_seq: int
    checkpoint_seq: int | None = None  # the checkpoint written by this pass, if any
    oldest_sealed_at: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.sealed or self.checkpoint_seq)

    def __str__(self) -> str:
        signed = f", checkpoint at {self.checkpoint_seq}" if self.checkpoint_seq else ""
        return f"sealed {self.sealed} entries; chain at {self.head_seq}{signed}"


def seal_pass(factory: sessionmaker[Session], settings: Settings) -> SealReport:
    """One worker pass: seal what has committed, in its own short transaction."""
    key = checkpoint_key(settings, create=True)
    with unit_of_work(factory) as session:
        return seal(session, key=key, policy=checkpoint_policy(settings))


def seal(
    session: Session,
    *,
    key: bytes | None = None,
    policy: CheckpointPolicy | None = None,
    batch: int = 2000,
    most: int = 100_000,
    now: datetime | None = None,
) -> SealReport:
    """Chain the committed unsealed entries (at most `most`) and sign a checkpoint when due."""
    head = _lock_head(session)
    sealed, oldest = 0, None
    while sealed < most:
        rows = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.seq.is_(None))
                .order_by(AuditEntry.id)
                .limit(min(batch, most - sealed))
            )
            .scalars()
            .all()
        )
        for row in rows:
            row.seq, row.prev_hash = head.seq + 1, head.last_hash
            row.hash = entry_hash({name: getattr(row, name) for name in HASHED_FIELDS})
            head.seq, head.last_hash = row.seq, row.hash
            oldest = row.at if oldest is None else min(oldest, row.at)
        session.flush()
        sealed += len(rows)
        if len(rows) < batch:
            break
    checkpoint = None
    if key is not None:
        checkpoint = _checkpoint_if_due(session, head, key, policy or CheckpointPolicy(), now)
    return SealReport(sealed, head.seq, checkpoint, oldest)


def _lock_head(session: Session) -> AuditHead:
    # FOR UPDATE only for this seal's transaction; SQLite's IMMEDIATE write lock does the same.
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def _checkpoint_if_due(
    session: Session,
    head: AuditHead,
    key: bytes,
    policy: CheckpointPolicy,
    now: datetime | None,
) -> int | None:
    now = now or utcnow()
    last = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).scalar_one_or_none()
    if head.seq == 0 or (last is not None and last.seq >= head.seq):
        return None
    if (
        last is not None
        and head.seq - last.seq < policy.every_entries
        and (now - last.at).total_seconds() < policy.every_seconds
    ):
        return None
    mac = checkpoint_mac(key, head.seq, head.last_hash, now, last.mac if last else "")
    session.add(AuditCheckpoint(seq=head.seq, hash=head.last_hash, at=now, mac=mac))
    session.flush()
    # The log line is a copy outside the database: it lets an operator notice checkpoints
    # that were deleted together with a rewritten tail.
    log.info("audit checkpoint: entry %s, chain hash %s", head.seq, head.last_hash)
    return head.seq


def checkpoint_key(settings: Settings, *, create: bool) -> bytes | None:
    """The checkpoint key: MESOCLINIC_AUDIT_KEY, else `audit.key` in the data folder (made on
    first use when `create`); None when there is none to check with."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = settings.data_dir / KEY_FILE
    if not path.exists() and not create:
        return None
    # Several workers may seal at once: they must all make and use the one key.
    return shared_key_file(path).encode()


def checkpoint_policy(settings: Settings) -> CheckpointPolicy:
    return CheckpointPolicy(settings.audit_checkpoint_entries, settings.audit_checkpoint_seconds)
