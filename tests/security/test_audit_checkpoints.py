"""Signed checkpoints catch what the bare hash chain cannot: a rewritten, recomputed tail.

Also: the sealer runs from the worker and the CLI, verification notices a stalled sealer, and
the audit browser shows entries that are not sealed yet.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from mesoclinic import worker
from mesoclinic.cli import build_app
from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.security import audit, audit_seal
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.audit_chain import HASHED_FIELDS, entry_hash
from mesoclinic.security.models import AuditCheckpoint, AuditEntry, AuditHead

KEY = b"k" * 48
EVERY_PASS = audit_seal.CheckpointPolicy(every_entries=1, every_seconds=3600)


def _write_and_seal(db, n=5, key=KEY):
    with unit_of_work(db.factory) as s:
        for i in range(n):
            audit.record(s, cli_actor(), "read", "patient", f"p{i}")
    with unit_of_work(db.factory) as s:
        return audit_seal.seal(s, key=key, policy=EVERY_PASS)


def _verify(db, key=KEY, **kwargs):
    with db.factory() as s:
        return audit.verify(s, key=key, **kwargs)


def _rewrite_from(db, first_seq, **changes):
    """What someone with write access to the database can do: alter entries and recompute
    every hash after them, and the head, so the bare chain still verifies."""
    with unit_of_work(db.factory) as s:
        rows = s.execute(
            select(AuditEntry).where(AuditEntry.seq >= first_seq).order_by(AuditEntry.seq)
        ).scalars()
        head = s.get(AuditHead, 1)
        prev = s.execute(select(AuditEntry.hash).where(AuditEntry.seq == first_seq - 1)).scalar()
        for row in rows:
            for name, value in changes.items():
                setattr(row, name, value)
            row.prev_hash = prev or "0" * 64
            row.hash = prev = entry_hash({k: getattr(row, k) for k in HASHED_FIELDS})
        head.last_hash = prev


def test_checkpoints_sign_the_sealed_head(db):
    report = _write_and_seal(db)
    assert report.sealed == 5 and report.checkpoint_seq == 5
    verified = _verify(db)
    assert verified.ok and verified.checkpoints == 1


def test_a_recomputed_tail_passes_the_bare_chain_but_not_the_checkpoint(db):
    _write_and_seal(db)
    _rewrite_from(db, 3, actor_username="mallory")
    assert _verify(db, key=None).ok  # what a chain without a key cannot see
    report = _verify(db)
    assert not report.ok and report.broken_seq == 5 and "rewritten" in report.problem


def test_a_checkpoint_forged_without_the_key_is_refused(db):
    _write_and_seal(db)
    _rewrite_from(db, 3, action="update")
    with unit_of_work(db.factory) as s:
        new_hash = s.get(AuditHead, 1).last_hash
        s.execute(update(AuditCheckpoint).values(hash=new_hash))
    report = _verify(db)
    assert not report.ok and report.broken_seq == 5 and "bad MAC" in report.problem


def test_deleting_signed_entries_and_moving_the_head_back_is_detected(db):
    _write_and_seal(db)
    with unit_of_work(db.factory) as s:
        third = s.execute(select(AuditEntry.hash).where(AuditEntry.seq == 3)).scalar_one()
        s.execute(delete(AuditEntry).where(AuditEntry.seq > 3))
        s.execute(update(AuditHead).values(seq=3, last_hash=third))
    assert _verify(db, key=None).ok
    report = _verify(db)
    assert not report.ok and report.broken_seq == 5 and "gone" in report.problem


def test_removing_an_earlier_checkpoint_is_detected(db):
    _write_and_seal(db, n=2)
    _write_and_seal(db, n=2)
    with unit_of_work(db.factory) as s:
        s.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq == 2))
    report = _verify(db)
    assert not report.ok and report.broken_seq == 4 and "bad MAC" in report.problem


def test_checkpoints_wait_for_the_policy(db):
    policy = audit_seal.CheckpointPolicy(every_entries=9, every_seconds=3600)
    in_two_hours = utcnow() + timedelta(hours=2)
    # 3 entries a pass: the first is signed, then every 9 entries, or once an hour has passed.
    for expected, now in ((3, None), (None, None), (None, None), (12, None), (15, in_two_hours)):
        with unit_of_work(db.factory) as s:
            for _ in range(3):
                audit.record(s, cli_actor(), "read", "patient")
        with unit_of_work(db.factory) as s:
            report = audit_seal.seal(s, key=KEY, policy=policy, now=now)
        assert report.checkpoint_seq == expected
    assert _verify(db).checkpoints == 3


def test_entries_left_unsealed_too_long_fail_verification(db):
    with unit_of_work(db.factory) as s:
        audit.record(s, cli_actor(), "read", "patient")
    fresh = _verify(db, stale_after=timedelta(minutes=60))
    assert fresh.ok and fresh.unsealed == 1
    later = utcnow() + timedelta(minutes=61)
    stale = _verify(db, stale_after=timedelta(minutes=60), now=later)
    assert not stale.ok and "worker" in stale.problem


def test_the_worker_seals_and_signs_with_the_data_folder_key(db, settings_for):
    settings = settings_for(db.url, audit_checkpoint_entries=1)
    with unit_of_work(db.factory) as s:
        audit.record(s, cli_actor(), "read", "patient")
    passes = worker.run_once(db.factory, settings)
    seal = next(report for name, report in passes if name == "security")  # its first pass
    assert seal.sealed == 1
    key = audit_seal.checkpoint_key(settings, create=False)
    assert key is not None and (settings.data_dir / audit_seal.KEY_FILE).exists()
    report = _verify(db, key=key)
    assert report.ok and report.checked == 1 and report.checkpoints == 1


@pytest.mark.committed  # the CLI opens its own engine
def test_cli_seals_then_verifies_the_checkpoints(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MESOCLINIC_AUDIT_CHECKPOINT_ENTRIES", "1")
    with unit_of_work(db.factory) as s:
        for i in range(3):
            audit.record(s, cli_actor(), "read", "patient", f"p{i}")
    runner = CliRunner()
    sealed = runner.invoke(build_app(), ["audit", "seal"])
    assert sealed.exit_code == 0 and "sealed 3 entries" in sealed.output
    ok = runner.invoke(build_app(), ["audit", "verify"])
    assert ok.exit_code == 0 and "1 signed checkpoints verified" in ok.output
    _rewrite_from(db, 2, detail="{}")
    bad = runner.invoke(build_app(), ["audit", "verify"])
    assert bad.exit_code != 0 and "entry 3" in bad.output


def test_the_audit_browser_lists_unsealed_entries_then_their_place(world):
    world.client("nurse").get(f"/api/v1/patients/{world.patient_a.id}")
    admin = world.client("admin")
    params = {"actor_username": world.users["nurse"].username}
    before = admin.get("/api/v1/audit", params=params).json()["items"]
    assert before and all(item["seq"] is None for item in before)
    page = world.web("admin").get("/admin/audit", params=params)
    assert page.status_code == 200 and "unsealed" in page.text
    with unit_of_work(world.db.factory) as s:
        audit_seal.seal(s)
    after = admin.get("/api/v1/audit", params=params).json()["items"]
    assert [item["seq"] is not None for item in after] == [True] * len(before)
