"""Three real `mesoclinic worker` processes on PostgreSQL share 30 jobs; one more is killed
with SIGKILL right after it claimed a job, which another finishes once the lease runs out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mesoclinic.db import unit_of_work
from mesoclinic.imaging.synthetic import SyntheticHair
from mesoclinic.outcomes import jobs
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ImageAnalysis,
    JobStatus,
    Measurement,
)
from outcomes.image_factory import MLP, make_site, synthetic_image

# CLI commands and worker processes open their own connections: real commits.
pytestmark = pytest.mark.committed

SRC = str(Path(__file__).resolve().parents[2] / "src")
LEASE_SECONDS = 8
JOBS = 30


def _env(db: Any, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": SRC,
            "MESOCLINIC_DATABASE_URL": db.url,
            "MESOCLINIC_DATA_DIR": str(data_dir),
            "MESOCLINIC_ANALYSIS_LEASE_SECONDS": str(LEASE_SECONDS),
            "MESOCLINIC_SECRET_KEY": "test-secret-" + "x" * 40,
            **extra,
        }
    )
    return env


def _worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mesoclinic.cli import main; main()",
            "worker",
            "--poll-seconds",
            "0.2",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_three_workers_do_each_job_once_and_take_over_a_killed_one(
    world: Any, tmp_path: Path
) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("parallel workers share a PostgreSQL database (SQLite has one writer)")
    site = make_site(world.db.factory, world.patient_a.id)
    ids: list[uuid.UUID] = []
    for n in range(JOBS):
        hairs = [
            SyntheticHair(120 + 40 * (n % 5), 150, 320.0, 90, 12),
            SyntheticHair(420, 330, 300.0, 90, 12),
        ]
        ids.append(
            synthetic_image(
                world.db.factory,
                tmp_path / "images",
                world.patient_a,
                hairs=hairs,
                seed=n,
                size=(640, 512),
                site_id=site,
            )
        )
    with unit_of_work(world.db.factory) as s:
        for image_id in ids:
            jobs.enqueue(
                s,
                kind=AnalysisKind.COUNT,
                image_id=image_id,
                algorithm_version=MLP,
                requested_by="t",
            )

    def held_by(pid: int) -> AnalysisJob | None:
        with world.db.factory() as s:
            return s.execute(
                select(AnalysisJob).where(AnalysisJob.leased_by.contains(f":{pid}:"))
            ).scalar_one_or_none()

    victim = _worker(_env(world.db, tmp_path, MESOCLINIC_ANALYSIS_DELAY_SECONDS="600"))
    workers: list[subprocess.Popen[str]] = []
    try:
        claimed = _wait_for(lambda: held_by(victim.pid), 60, "the victim to claim a job")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        workers = [_worker(_env(world.db, tmp_path)) for _ in range(3)]

        def all_done() -> bool:
            with world.db.factory() as s:
                return (
                    s.scalar(
                        select(func.count())
                        .select_from(AnalysisJob)
                        .where(AnalysisJob.status == JobStatus.DONE)
                    )
                    == JOBS
                )

        _wait_for(all_done, 240, "every job to be done")
        time.sleep(1.0)  # a few more passes: nothing may be done twice
    finally:
        for proc in [victim, *workers]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=60) for proc in workers]
        if victim.poll() is None:
            victim.kill()
    for proc, (_out, err) in zip(workers, outputs, strict=True):
        assert proc.returncode == 0, err
    with world.db.factory() as s:
        analyses = list(s.execute(select(ImageAnalysis)).scalars())
        assert len(analyses) == JOBS and len({a.job_id for a in analyses}) == JOBS
        assert len({a.image_id for a in analyses}) == JOBS
        counts = list(
            s.execute(
                select(Measurement.analysis_id).where(Measurement.kind == "hair_count")
            ).scalars()
        )
        assert sorted(map(str, counts)) == sorted(str(a.id) for a in analyses)
        taken = s.get(AnalysisJob, claimed.id)
        assert taken is not None and taken.status == JobStatus.DONE
        assert taken.attempts >= 2 and f":{victim.pid}:" not in (taken.leased_by or "")
        assert taken.finished_at is not None
        # Finished by another worker only after the dead one's lease had run out.
        assert claimed.lease_until is not None and taken.finished_at >= claimed.lease_until
        workers_used = {
            j.leased_by.split(":")[1]
            for j in s.execute(select(AnalysisJob)).scalars()
            if j.leased_by
        }
    assert len(workers_used) >= 2, workers_used  # the work was shared
