"""`mesoclinic worker` as real processes: a worker killed after claiming, then a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.aftercare.models import OutboxMessage

SRC = str(Path(__file__).resolve().parents[2] / "src")
LEASE_SECONDS = 0.5
# Claims the due messages the way the worker does, then dies without sending or cleaning up.
CLAIM_THEN_DIE = """
import os
import mesoclinic.models_registry
from mesoclinic.aftercare import outbox
from mesoclinic.config import get_settings
from mesoclinic.db import make_engine, make_sessionmaker, utcnow
from datetime import timedelta
settings = get_settings()
factory = make_sessionmaker(make_engine(settings.resolved_database_url))
lease = timedelta(seconds=settings.outbox_lease_seconds)
claimed = outbox.claim_due(factory, utcnow(), lease=lease)
print(len(claimed), flush=True)
os._exit(9)
"""

# worker subprocesses open their own connections
pytestmark = pytest.mark.committed


def worker_env(db: Any, smtp: Any, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": SRC,
            "MESOCLINIC_DATABASE_URL": db.url,
            "MESOCLINIC_DATA_DIR": str(tmp_path),
            "MESOCLINIC_SMTP_HOST": smtp.host,
            "MESOCLINIC_SMTP_PORT": str(smtp.port),
            "MESOCLINIC_MAIL_FROM": "clinic@example.org",
            "MESOCLINIC_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
            "MESOCLINIC_SECRET_KEY": "test-secret-" + "x" * 40,
        }
    )
    return env


def run_worker_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from mesoclinic.cli import main; main()", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_killed_worker_then_restart_sends_each_message_exactly_once(
    world: Any, smtp: Any, add_appointment: Any, tmp_path: Path
) -> None:
    from mesoclinic.aftercare import scheduler
    from mesoclinic.aftercare.rulebook import load
    from mesoclinic.db import unit_of_work

    now = datetime.now(UTC)
    add_appointment(world.patient_a, now + timedelta(hours=10))  # both emails are due now
    with unit_of_work(world.db.factory) as s:
        scheduler.queue_appointment_reminders(s, now, load())
    env = worker_env(world.db, smtp, tmp_path)
    dying = subprocess.run(
        [sys.executable, "-c", CLAIM_THEN_DIE], env=env, capture_output=True, text=True, timeout=120
    )
    assert dying.returncode == 9 and dying.stdout.strip() == "2", dying.stderr
    assert smtp.inbox.messages == []
    time.sleep(LEASE_SECONDS + 0.2)  # the dead worker's lease runs out
    restarted = run_worker_once(env)
    assert restarted.returncode == 0, restarted.stderr
    assert "sent 2" in restarted.stdout
    again = run_worker_once(env)
    assert again.returncode == 0 and "sent 0" in again.stdout
    assert len(smtp.inbox.messages) == 2
    assert len(set(smtp.inbox.message_ids())) == 2
    with world.db.factory() as s:
        assert {m.status for m in s.execute(select(OutboxMessage)).scalars()} == {"sent"}


def test_looping_worker_sends_then_stops_cleanly_on_sigterm(
    world: Any, smtp: Any, add_appointment: Any, tmp_path: Path
) -> None:
    import signal

    add_appointment(world.patient_a, datetime.now(UTC) + timedelta(hours=10))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mesoclinic.cli import main; main()",
            "worker",
            "--poll-seconds",
            "0.2",
        ],
        env=worker_env(world.db, smtp, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(smtp.inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a few more passes: nothing may be sent twice
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "worker stopped" in out
    assert len(smtp.inbox.messages) == 2
