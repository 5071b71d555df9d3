"""Analysis jobs: claim, complete, fail and lease expiry on both databases; re-analysis."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.imaging.results import ALGORITHM_VERSIONS
from mesoclinic.outcomes import jobs, jobs_worker
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ImageAnalysis,
    JobStatus,
    Measurement,
    MeasurementSource,
)
from mesoclinic.security.actor import cli_actor
from outcomes.image_factory import MLP, make_site, synthetic_image

LEASE = timedelta(seconds=60)


def _queue(world: Any, image_id: uuid.UUID, version: str = MLP) -> uuid.UUID:
    with unit_of_work(world.db.factory) as s:
        job = jobs.enqueue(
            s,
            kind=AnalysisKind.COUNT,
            image_id=image_id,
            algorithm_version=version,
            requested_by="t",
        )
        return job.id


@pytest.fixture
def image(world: Any) -> uuid.UUID:
    site = make_site(world.db.factory, world.patient_a.id)
    return synthetic_image(
        world.db.factory, world.app.state.settings.images_dir, world.patient_a, site_id=site
    )


def test_claim_leases_the_job_to_one_worker(world: Any, image: uuid.UUID) -> None:
    job_id = _queue(world, image)
    now = utcnow()
    first = jobs.claim(world.db.factory, "w1", LEASE, now)
    assert first is not None and first.job_id == job_id and first.attempts == 1
    assert jobs.claim(world.db.factory, "w2", LEASE, now) is None  # leased: nobody else gets it
    with world.db.factory() as s:
        row = s.get(AnalysisJob, job_id)
        assert row is not None
        assert row.status == JobStatus.RUNNING and row.leased_by == "w1"
        assert row.lease_until is not None and row.lease_until > now


def test_expired_lease_is_taken_over_and_the_first_worker_cannot_complete(
    world: Any, image: uuid.UUID
) -> None:
    job_id = _queue(world, image)
    now = utcnow()
    first = jobs.claim(world.db.factory, "w1", LEASE, now)
    later = now + LEASE + timedelta(seconds=1)
    second = jobs.claim(world.db.factory, "w2", LEASE, later)
    assert first is not None and second is not None and second.job_id == job_id
    assert second.attempts == 2
    assert jobs.complete(world.db.factory, first, {"kind": "count"}, [("hair_count", 5)]) is None
    assert jobs.fail(world.db.factory, first, "boom") is None  # the taker decides, not w1
    done = jobs.complete(world.db.factory, second, {"kind": "count"}, [("hair_count", 6)])
    assert done is not None
    with world.db.factory() as s:
        assert s.scalar(select(func.count()).select_from(ImageAnalysis)) == 1
        values = list(s.execute(select(Measurement.value)).scalars())
        assert values == [6]
        row = s.get(AnalysisJob, job_id)
        assert row is not None and row.status == JobStatus.DONE and row.lease_until is None


def test_failures_retry_then_give_up_with_the_error(world: Any, image: uuid.UUID) -> None:
    job_id = _queue(world, image)
    statuses = []
    for _ in range(jobs.MAX_ATTEMPTS):
        held = jobs.claim(world.db.factory, "w", LEASE)
        assert held is not None
        statuses.append(jobs.fail(world.db.factory, held, "the image is unreadable"))
    assert statuses == [JobStatus.QUEUED] * (jobs.MAX_ATTEMPTS - 1) + [JobStatus.FAILED]
    assert jobs.claim(world.db.factory, "w", LEASE) is None
    with world.db.factory() as s:
        row = s.get(AnalysisJob, job_id)
        assert row is not None and row.error == "the image is unreadable"


def test_a_job_whose_workers_keep_dying_is_given_up(world: Any, image: uuid.UUID) -> None:
    job_id = _queue(world, image)
    now = utcnow()
    for attempt in range(jobs.MAX_ATTEMPTS):
        assert jobs.claim(world.db.factory, f"w{attempt}", LEASE, now) is not None
        now += LEASE + timedelta(seconds=1)
    assert jobs.claim(world.db.factory, "last", LEASE, now) is None
    with world.db.factory() as s:
        row = s.get(AnalysisJob, job_id)
        assert row is not None and row.status == JobStatus.FAILED
        assert "stopped during analysis" in (row.error or "")


def test_worker_stores_result_and_measurements_with_provenance(
    world: Any, image: uuid.UUID
) -> None:
    _queue(world, image)
    report = jobs_worker.run_pending(world.db.factory, world.app.state.settings)
    assert report.startswith("analysed 1,")
    with world.db.factory() as s:
        analysis = s.execute(select(ImageAnalysis)).scalar_one()
        result = analysis.result
        assert len(result["hairs"]) == 6
        hair = result["hairs"][0]
        assert set(hair) >= {"exit", "shaft", "width_px", "terminal", "unit", "diameter_um"}
        assert result["calibration"]["assumed"] is True
        rows = {m.kind: m for m in s.execute(select(Measurement)).scalars()}
    assert rows["hair_count"].value == 6
    assert {"density_total", "mean_shaft_diameter", "follicular_unit_density"} <= set(rows)
    for m in rows.values():
        assert m.source == MeasurementSource.IMAGE_ANALYSIS
        assert m.algorithm_version == MLP and m.image_id == image
        assert m.analysis_id == analysis.id and m.recorded_by == "worker"
        assert m.site_id is not None
    assert rows["density_total"].unit == "/cm2" and "assumed" in (rows["density_total"].note or "")


def test_uncalibrated_image_stores_no_density(world: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id)
    image = synthetic_image(
        world.db.factory,
        world.app.state.settings.images_dir,
        world.patient_a,
        site_id=site,
        device_profile=None,
    )
    _queue(world, image)
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)
    with world.db.factory() as s:
        kinds = set(s.execute(select(Measurement.kind)).scalars())
        result = s.execute(select(ImageAnalysis.result)).scalar_one()
    assert "hair_count" in kinds and not kinds & {"density_total", "mean_shaft_diameter"}
    assert result["calibrated"] is False


def test_reanalysis_keeps_the_old_result_beside_the_new(world: Any, image: uuid.UUID) -> None:
    _queue(world, image)
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)
    with unit_of_work(world.db.factory) as s:
        again = jobs.reanalyse(s, cli_actor(), [image], MLP)  # same version: the same job
        assert again[0].status == JobStatus.DONE
        queued = jobs.reanalyse(s, cli_actor(), None, ALGORITHM_VERSIONS["cnn"])
        assert [j.status for j in queued] == [JobStatus.QUEUED]
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)
    with world.db.factory() as s:
        versions = sorted(s.execute(select(ImageAnalysis.algorithm_version)).scalars())
        counts = list(
            s.execute(select(Measurement.algorithm_version).where(Measurement.kind == "hair_count"))
        )
    assert versions == sorted([MLP, ALGORITHM_VERSIONS["cnn"]])
    assert len(counts) == 2


def test_reanalyse_api_refuses_an_unknown_version(world: Any, image: uuid.UUID) -> None:
    r = world.client("clinician").post(
        f"/api/v1/images/{image}/reanalyse", json={"algorithm_version": "v999"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "algorithm_version"
    ok = world.client("clinician").post(
        f"/api/v1/images/{image}/reanalyse", json={"algorithm_version": MLP}
    )
    assert ok.status_code == 202 and ok.json()[0]["status"] == "queued"
    assert (
        world.client("reception")
        .post(f"/api/v1/images/{image}/reanalyse", json={"algorithm_version": MLP})
        .status_code
        == 403
    )
