"""Migration 0007 keeps the chain written before it: sealed rows keep their seq and hash."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import update

from mesoclinic import migrate
from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.security import audit, audit_seal
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.audit_chain import GENESIS_HASH, entry_hash
from mesoclinic.security.models import AuditEntry, AuditHead

# migrations run on their own connection
pytestmark = pytest.mark.committed


def _append_the_old_way(session, seq, prev_hash):
    values = {
        "seq": seq,
        "at": utcnow(),
        "actor_id": None,
        "actor_username": "cli",
        "actor_role": "admin",
        "clinic_id": None,
        "action": "read",
        "entity_type": "patient",
        "entity_id": f"old{seq}",
        "patient_id": None,
        "client_addr": None,
        "detail": "",
        "prev_hash": prev_hash,
    }
    values["hash"] = entry_hash(values)
    session.add(AuditEntry(**values))
    session.execute(update(AuditHead).values(seq=seq, last_hash=values["hash"]))
    return values["hash"]


def test_entries_chained_before_the_migration_stay_chained_after_it(db):
    cfg = migrate.alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006_merge_areas")
    try:
        with unit_of_work(db.factory) as s:
            second = _append_the_old_way(s, 2, _append_the_old_way(s, 1, GENESIS_HASH))
    finally:
        migrate.upgrade(db.engine)
    with unit_of_work(db.factory) as s:
        audit.record(s, cli_actor(), "read", "patient", "new")
    with unit_of_work(db.factory) as s:
        assert audit_seal.seal(s).sealed == 1
    with db.factory() as s:
        report = audit.verify(s)
        third = s.query(AuditEntry).filter_by(entity_id="new").one()
    assert report.ok and report.checked == 3
    assert third.seq == 3 and third.prev_hash == second
