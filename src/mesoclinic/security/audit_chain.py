"""The audit chain's arithmetic, with no I/O: entry hashes, checkpoint MACs and their checks."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mesoclinic.security.models import AuditCheckpoint, AuditEntry, AuditHead

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


def checkpoint_mac(key: bytes, seq: int, chain_hash: str, at: datetime, prev_mac: str) -> str:
    """HMAC-SHA256 of one checkpoint; chaining the previous MAC makes gaps in them visible."""
    message = f"mesoclinic-audit-checkpoint|{seq}|{chain_hash}|{_canonical(at)}|{prev_mac}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0  # checkpoints whose MAC and chain hash were checked
    unsealed: int = 0  # committed entries not yet given their place in the chain


def verify_chain(entries: Iterable[AuditEntry], head: AuditHead | None) -> ChainReport:
    """Walk the sealed chain in order; name the first entry that was altered, removed or
    inserted."""
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


def verify_checkpoints(
    checkpoints: Iterable[tuple[AuditCheckpoint, str | None]], key: bytes, head_seq: int
) -> ChainReport:
    """Check each checkpoint (in seq order, with the chain's hash at its seq); the report names
    the first that does not hold."""
    prev_mac, checked = "", 0
    for checkpoint, chain_hash in checkpoints:
        seq = checkpoint.seq
        expected = checkpoint_mac(key, seq, checkpoint.hash, checkpoint.at, prev_mac)
        if not hmac.compare_digest(expected, checkpoint.mac):
            return ChainReport(
                False,
                head_seq,
                seq,
                f"checkpoint at entry {seq} has a bad MAC "
                "(forged, an earlier checkpoint removed, or another key)",
                checked,
            )
        if seq > head_seq or chain_hash is None:
            return ChainReport(
                False, head_seq, seq, f"entries up to {seq} were signed but are gone", checked
            )
        if chain_hash != checkpoint.hash:
            return ChainReport(
                False,
                head_seq,
                seq,
                f"entries up to {seq} were rewritten (the chain is not the one signed)",
                checked,
            )
        prev_mac, checked = checkpoint.mac, checked + 1
    return ChainReport(True, head_seq, checkpoints=checked)
