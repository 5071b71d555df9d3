"""The audit log is append-only and hash-chained; `mesoclinic audit verify` finds tampering."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, text, update
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from mesoclinic.db import unit_of_work
from mesoclinic.security import audit, audit_seal
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.models import AuditEntry


def _write_entries(db, n=5):
    with unit_of_work(db.factory) as s:
        for i in range(n):
            audit.record(s, cli_actor(), "read", "patient", f"p{i}")
    _seal(db)


def _seal(db):
    """What the worker does on each pass: chain the committed entries."""
    with unit_of_work(db.factory) as s:
        audit_seal.seal(s)


def _verify(db):
    _seal(db)
    with db.factory() as s:
        return audit.verify(s)


def test_intact_chain_verifies(db):
    _write_entries(db)
    report = _verify(db)
    assert report.ok and report.checked == 5


@pytest.mark.committed  # tampers through the engine
def test_altered_row_is_named(db):
    _write_entries(db)
    with db.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(action="update"))
    report = _verify(db)
    assert not report.ok and report.broken_seq == 3 and "altered" in report.problem


@pytest.mark.committed  # tampers through the engine
def test_removed_row_is_named(db):
    _write_entries(db)
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    report = _verify(db)
    assert not report.ok and report.broken_seq == 2


@pytest.mark.committed  # tampers through the engine
def test_removing_the_newest_rows_is_detected(db):
    _write_entries(db)
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq >= 4))
    report = _verify(db)
    assert not report.ok and report.broken_seq == 4


@pytest.mark.committed  # threads on their own connections
def test_concurrent_writers_keep_one_unbroken_chain(db):
    def work():
        for _ in range(10):
            with unit_of_work(db.factory) as s:
                audit.record(s, cli_actor(), "read", "patient", "x")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = _verify(db)
    assert report.ok and report.checked == 40


@pytest.mark.committed  # the CLI opens its own engine
def test_cli_verify_exits_nonzero_naming_the_broken_entry(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    _write_entries(db)
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["audit", "verify"])
    assert ok.exit_code == 0 and "5 entries" in ok.output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor_username = 'mallory' WHERE seq = 2"))
    bad = runner.invoke(build_app(), ["audit", "verify"])
    assert bad.exit_code != 0
    assert "entry 2" in bad.output


def test_admin_browses_and_filters_the_audit_log(world):
    world.client("nurse").get(f"/api/v1/patients/{world.patient_a.id}")
    admin = world.client("admin")
    r = admin.get(
        "/api/v1/audit", params={"actor_username": world.users["nurse"].username, "action": "read"}
    )
    assert r.status_code == 200
    items = r.json()["items"]
    assert items and all(i["actor_username"] == world.users["nurse"].username for i in items)
    page = world.web("admin").get("/admin/audit", params={"action": "read"})
    assert page.status_code == 200 and world.users["nurse"].username in page.text
    assert world.client("clinician").get("/api/v1/audit").status_code == 403
