"""Durable analysis jobs: queued once per piece of work, claimed with a lease by a worker.

A claim is its own short transaction; the analysis runs outside any transaction; `complete`
stores the result, its measurements and the "done" mark in one transaction, and only while the
worker still holds the claim (leased_by and attempts unchanged since it claimed). A worker that
dies leaves its job running with a lease that expires; the next claim takes it over.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.db import RecordStatus, unit_of_work, utcnow
from mesoclinic.errors import InvalidInput
from mesoclinic.imaging.results import known_versions
from mesoclinic.outcomes import service as measurements_service
from mesoclinic.outcomes.kinds import check_measurement, load_kinds
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ClinicalImage,
    ImageAnalysis,
    ImageKind,
    JobStatus,
)
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor, cli_actor
from mesoclinic.security.permissions import Permission

MAX_ATTEMPTS = 3
WORKER = "worker"  # recorded_by of measurements the worker stores


def work_key(
    kind: AnalysisKind, image_id: uuid.UUID, second_image_id: uuid.UUID | None, version: str
) -> str:
    return f"{kind.value}:{image_id}:{second_image_id or '-'}:{version}"


def enqueue(
    session: Session,
    *,
    kind: AnalysisKind,
    image_id: uuid.UUID,
    algorithm_version: str,
    requested_by: str,
    second_image_id: uuid.UUID | None = None,
) -> AnalysisJob:
    """The job for this work, queued now unless it already exists (then that one is returned)."""
    key = work_key(kind, image_id, second_image_id, algorithm_version)
    existing = session.execute(
        select(AnalysisJob).where(AnalysisJob.work_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    job = AnalysisJob(
        work_key=key,
        image_id=image_id,
        second_image_id=second_image_id,
        kind=kind,
        algorithm_version=algorithm_version,
        requested_by=requested_by,
    )
    session.add(job)
    session.flush()
    return job


@dataclass(frozen=True)
class Claim:
    """A job this worker holds until lease_until; `attempts` identifies this very claim."""

    job_id: uuid.UUID
    kind: AnalysisKind
    image_id: uuid.UUID
    second_image_id: uuid.UUID | None
    algorithm_version: str
    worker_id: str
    attempts: int
    lease_until: datetime


def _due(now: datetime) -> object:
    return or_(
        AnalysisJob.status == JobStatus.QUEUED,
        and_(AnalysisJob.status == JobStatus.RUNNING, AnalysisJob.lease_until <= now),
    )


def claim(
    factory: sessionmaker[Session],
    worker_id: str,
    lease: timedelta,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> Claim | None:
    """The next due job (queued, or running with an expired lease), now leased to worker_id.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so parallel workers each take a different row.
    SQLite: one writer at a time; the UPDATE is conditional on the row still being as read
    and its rowcount says whether this worker won it.
    A job whose workers died `max_attempts` times is given up as failed (it would loop).
    """
    now = now or utcnow()
    with unit_of_work(factory) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        stmt = select(AnalysisJob).where(_due(now)).order_by(AnalysisJob.created_at)  # type: ignore[arg-type]
        if postgres:
            for job in session.execute(stmt.limit(5).with_for_update(skip_locked=True)).scalars():
                if job.status == JobStatus.RUNNING and job.attempts >= max_attempts:
                    _give_up(job, now, f"the worker stopped during analysis {job.attempts} times")
                    continue
                job.status, job.leased_by = JobStatus.RUNNING, worker_id
                job.lease_until, job.attempts = now + lease, job.attempts + 1
                job.started_at = now
                return _claim_of(job)
            return None
        for job in session.execute(stmt.limit(20)).scalars():
            if job.status == JobStatus.RUNNING and job.attempts >= max_attempts:
                _give_up(job, now, f"the worker stopped during analysis {job.attempts} times")
                continue
            won = session.execute(
                update(AnalysisJob)
                .where(
                    AnalysisJob.id == job.id,
                    AnalysisJob.status == job.status,
                    AnalysisJob.attempts == job.attempts,
                )
                .values(
                    status=JobStatus.RUNNING,
                    leased_by=worker_id,
                    lease_until=now + lease,
                    attempts=job.attempts + 1,
                    started_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(job)
                return _claim_of(job)
        return None


def _claim_of(job: AnalysisJob) -> Claim:
    assert job.leased_by is not None and job.lease_until is not None
    return Claim(
        job.id,
        job.kind,
        job.image_id,
        job.second_image_id,
        job.algorithm_version,
        job.leased_by,
        job.attempts,
        job.lease_until,
    )


def _give_up(job: AnalysisJob, now: datetime, error: str) -> None:
    job.status, job.error, job.finished_at = JobStatus.FAILED, error, now
    job.leased_by, job.lease_until = None, None


def _held(session: Session, held: Claim) -> AnalysisJob | None:
    """The job row locked for this transaction if this claim still holds it, else None."""
    stmt = select(AnalysisJob).where(
        AnalysisJob.id == held.job_id,
        AnalysisJob.status == JobStatus.RUNNING,
        AnalysisJob.leased_by == held.worker_id,
        AnalysisJob.attempts == held.attempts,
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def complete(
    factory: sessionmaker[Session],
    held: Claim,
    result: dict[str, object],
    values: Iterable[tuple[str, float]],
    now: datetime | None = None,
) -> ImageAnalysis | None:
    """Store the result and its measurements and mark the job done, in one transaction.

    None ("taken over") when another worker claimed the job meanwhile: nothing is stored.
    """
    now = now or utcnow()
    with unit_of_work(factory) as session:
        job = _held(session, held)
        if job is None:
            return None
        image = session.get(ClinicalImage, job.image_id)
        assert image is not None
        analysis = ImageAnalysis(
            job_id=job.id,
            image_id=job.image_id,
            second_image_id=job.second_image_id,
            kind=job.kind,
            algorithm_version=job.algorithm_version,
            result=dict(result),
        )
        session.add(analysis)
        session.flush()
        skipped = _store_measurements(session, analysis, image, values)
        if skipped:
            analysis.result = {**analysis.result, "not_stored": skipped}
        job.status, job.finished_at, job.error = JobStatus.DONE, now, None
        job.lease_until = None
        audit.record(
            session,
            cli_actor(WORKER),
            "analyse",
            "clinical_image",
            image.id,
            patient_id=image.patient_id,
            clinic_id=image.clinic_id,
            detail={"job": str(job.id), "kind": job.kind.value, "version": job.algorithm_version},
        )
        return analysis


def fail(
    factory: sessionmaker[Session],
    held: Claim,
    error: str,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> JobStatus | None:
    """Put the job back in the queue, or give it up as failed after max_attempts.

    None when the claim was lost meanwhile (the other worker decides).
    """
    now = now or utcnow()
    with unit_of_work(factory) as session:
        job = _held(session, held)
        if job is None:
            return None
        job.error = error[:2000]
        job.leased_by, job.lease_until = None, None
        if job.attempts >= max_attempts:
            job.status, job.finished_at = JobStatus.FAILED, now
        else:
            job.status = JobStatus.QUEUED
        return job.status


def _store_measurements(
    session: Session,
    analysis: ImageAnalysis,
    image: ClinicalImage,
    values: Iterable[tuple[str, float]],
) -> list[dict[str, str]]:
    """Measurements of an analysis with image-analysis provenance; the values the kinds
    rulebook refuses (out of range, no site for a site-bound kind) are returned, not stored."""
    book = load_kinds()
    skipped: list[dict[str, str]] = []
    note = _calibration_note(analysis)
    for code, value in values:
        kind = book.get(code)
        if kind is None:
            skipped.append({"kind": code, "reason": "not a kind in the rulebook"})
            continue
        problems = check_measurement(
            kind, value=value, unit=kind.unit, has_site=image.site_id is not None, rater=None
        )
        if problems:
            skipped.append({"kind": code, "reason": "; ".join(m for _, m in problems)})
            continue
        measurements_service.record_from_analysis(
            session,
            cli_actor(WORKER),
            image.patient_id,
            measurements_service.AnalysisValue(
                kind=code,
                value=value,
                unit=kind.unit,
                image_id=image.id,
                algorithm_version=analysis.algorithm_version,
                measured_at=image.taken_at,
                site_id=image.site_id,
                visit_id=image.visit_id,
                analysis_id=analysis.id,
                note=note if code != "hair_count" else None,
            ),
            book,
        )
    session.flush()
    return skipped


def _calibration_note(analysis: ImageAnalysis) -> str | None:
    calibration = analysis.result.get("calibration")
    if isinstance(calibration, dict) and calibration.get("assumed"):
        return f"assumed calibration ({calibration.get('source')}: nominal field of view)"
    return None


def reanalyse(
    session: Session,
    actor: Actor,
    image_ids: list[uuid.UUID] | None,
    algorithm_version: str,
) -> list[AnalysisJob]:
    """Queue COUNT jobs of a version for these trichoscopy images (None: every active one).

    Earlier results stay: a job per version, and so one result per version, beside each other.
    """
    actor.require(Permission.OUTCOME_WRITE)
    if algorithm_version not in known_versions():
        raise InvalidInput(
            f"unknown algorithm version; this build runs: {', '.join(known_versions())}",
            field="algorithm_version",
        )
    stmt = select(ClinicalImage).where(
        ClinicalImage.kind == ImageKind.TRICHOSCOPY,
        ClinicalImage.status == RecordStatus.ACTIVE,
    )
    if image_ids is not None:
        stmt = stmt.where(ClinicalImage.id.in_(image_ids))
    elif actor.clinic_id is not None:  # "all" means all of the actor's own clinic
        stmt = stmt.where(ClinicalImage.clinic_id == actor.clinic_id)
    images = list(session.execute(stmt.order_by(ClinicalImage.taken_at)).scalars())
    if image_ids is not None:
        found = {image.id for image in images}
        missing = [str(i) for i in image_ids if i not in found]
        if missing:
            raise InvalidInput(
                f"not an active trichoscopy image: {', '.join(missing)}", field="image_ids"
            )
    jobs = []
    for image in images:
        actor.check_patient_scope(image.clinic_id, image.patient_id)
        job = enqueue(
            session,
            kind=AnalysisKind.COUNT,
            image_id=image.id,
            algorithm_version=algorithm_version,
            requested_by=actor.username,
        )
        audit.record(
            session,
            actor,
            "reanalyse",
            "clinical_image",
            image.id,
            patient_id=image.patient_id,
            clinic_id=image.clinic_id,
            detail={"version": algorithm_version, "job": str(job.id)},
        )
        jobs.append(job)
    return jobs
