"""Durable analysis jobs: queued once per piece of work, claimed with a lease by a worker."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.outcomes.models import AnalysisJob, AnalysisKind


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
