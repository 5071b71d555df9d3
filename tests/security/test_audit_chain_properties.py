"""Pure properties of the hash chain: any change to any entry is detected where it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mesoclinic.security.audit import GENESIS_HASH, entry_hash, verify_chain
from mesoclinic.security.models import AuditEntry, AuditHead

TAMPERABLE = ("actor_username", "action", "entity_type", "entity_id", "client_addr", "detail")


def _chain(n: int) -> tuple[list[AuditEntry], AuditHead]:
    prev, entries = GENESIS_HASH, []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        values = {
            "seq": i,
            "at": start + timedelta(seconds=i),
            "actor_id": None,
            "actor_username": f"user{i % 3}",
            "actor_role": "nurse",
            "clinic_id": None,
            "action": "read",
            "entity_type": "patient",
            "entity_id": f"p{i}",
            "patient_id": None,
            "client_addr": "10.0.0.1",
            "detail": "",
            "prev_hash": prev,
        }
        values["hash"] = entry_hash(values)
        entries.append(AuditEntry(**values))
        prev = values["hash"]
    return entries, AuditHead(id=1, seq=n, last_hash=prev)


@given(n=st.integers(1, 30), data=st.data())
def test_any_altered_field_is_reported_at_that_entry(n, data):
    entries, head = _chain(n)
    victim = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(TAMPERABLE))
    setattr(entries[victim], field, str(getattr(entries[victim], field)) + "x")
    report = verify_chain(entries, head)
    assert not report.ok and report.broken_seq == victim + 1


@given(n=st.integers(2, 30), data=st.data())
def test_any_removed_entry_is_reported(n, data):
    entries, head = _chain(n)
    victim = data.draw(st.integers(0, n - 1))
    del entries[victim]
    report = verify_chain(entries, head)
    assert not report.ok and report.broken_seq == victim + 1


@given(n=st.integers(0, 30))
def test_untouched_chain_verifies(n):
    entries, head = _chain(n)
    assert verify_chain(entries, head).ok
