"""Bulk export jobs (FHIR Bulk Data Access): kick-off, status, cancel, files, and the lease a
worker holds while it writes the NDJSON files.

The job is a leased row like the analysis jobs (docs/decisions.md, "Analysis jobs are leased
rows"): a claim is its own short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a
conditional UPDATE on SQLite); the export then runs in its own read transaction while the worker
renews the lease after every batch of patients; completion stores the manifest only while the
claim still holds. Only the account that asked may see the job: anyone else gets 404.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.db import DEFERRED_WRITES, unit_of_work, utcnow
from mesoclinic.errors import Forbidden, InvalidInput, NotFound
from mesoclinic.fhir.bulk_models import BulkExportJob, ExportLevel, ExportStatus
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor, cli_actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission, Role

MAX_ATTEMPTS = 3
EXPORTS_FOLDER = "fhir-exports"
WORKER = "worker"
FILE_NAME = re.compile(r"^[A-Za-z]{1,40}$")


@dataclass(frozen=True)
class ExportRequest:
    """What a kick-off asked for, already checked against the supported types."""

    level: ExportLevel
    types: tuple[str, ...]
    since: datetime | None
    request_url: str
    group_clinic_id: uuid.UUID | None = None


def export_folder(data_dir: Path, job_id: uuid.UUID) -> Path:
    return data_dir / EXPORTS_FOLDER / str(job_id)


def _scope(session: Session, actor: Actor, request: ExportRequest) -> uuid.UUID | None:
    """The clinic the export covers (None: every clinic, for a group admin's system export)."""
    if actor.role is Role.PATIENT:
        raise Forbidden("Patients cannot export the clinic's records")
    actor.require(Permission.FHIR_BULK_EXPORT)
    if request.level is ExportLevel.GROUP:
        clinic_id = request.group_clinic_id
        if clinic_id is None or session.get(Clinic, clinic_id) is None:
            raise NotFound("Group not found")
        if not actor.is_group_admin and clinic_id != actor.clinic_id:
            raise NotFound("Group not found")
        return clinic_id
    return None if actor.is_group_admin else actor.clinic_id


def kick_off(session: Session, actor: Actor, request: ExportRequest) -> BulkExportJob:
    """Queue an export of the actor's clinic (a group admin: every clinic, or the Group's)."""
    clinic_id = _scope(session, actor, request)
    if actor.user_id is None:
        raise Forbidden("A bulk export is requested by a signed-in account")
    job = BulkExportJob(
        id=uuid.uuid4(),
        level=request.level,
        clinic_id=clinic_id,
        requested_by_id=actor.user_id,
        requested_by=actor.username,
        request_url=request.request_url,
        types=list(request.types),
        since=request.since,
        output=[],
        status=ExportStatus.QUEUED,
        attempts=0,
        patients_done=0,
    )
    queued = session.info.get(DEFERRED_WRITES)
    if queued is not None:  # a GET on SQLite: written with the audit entries, after the read
        queued.append(partial(_insert, job=job))
    else:
        _insert(session, job)
    return job


def _insert(session: Session, job: BulkExportJob) -> None:
    session.add(job)
    session.flush()


def own_job(session: Session, actor: Actor, job_id: uuid.UUID) -> BulkExportJob:
    """The job if the actor asked for it; anyone else (admins included) is told it is absent."""
    job = session.get(BulkExportJob, job_id)
    if job is None or actor.user_id is None or job.requested_by_id != actor.user_id:
        raise NotFound("Export job not found")
    if job.status is ExportStatus.CANCELLED:
        raise NotFound("Export job not found (it was cancelled)")
    return job


def cancel(session: Session, actor: Actor, job_id: uuid.UUID, data_dir: Path) -> None:
    """Cancel a running job or delete a finished one's files (the DELETE of the status URL).

    A worker still writing notices at its next batch and stops; its files are removed here and
    again by the worker when it stops.
    """
    job = own_job(session, actor, job_id)
    job.status, job.finished_at = ExportStatus.CANCELLED, utcnow()
    job.leased_by, job.lease_until = None, None
    session.flush()
    audit.record(
        session, actor, "cancel", "fhir_bulk_export", job.id, clinic_id=job.clinic_id or None
    )
    shutil.rmtree(export_folder(data_dir, job.id), ignore_errors=True)


def file_path(
    session: Session, actor: Actor, job_id: uuid.UUID, name: str, data_dir: Path
) -> tuple[Path, dict[str, Any]]:
    """The NDJSON file of a finished job, for its requester only; the read is audited."""
    job = own_job(session, actor, job_id)
    entry = next((o for o in job.output if o["file"] == f"{name}.ndjson"), None)
    if job.status is not ExportStatus.DONE or not FILE_NAME.match(name) or entry is None:
        raise NotFound("Export file not found")
    path = export_folder(data_dir, job.id) / entry["file"]
    if not path.is_file():
        raise NotFound("Export file not found (it was removed)")
    audit.record(
        session,
        actor,
        "read",
        "fhir_bulk_export_file",
        job.id,
        clinic_id=job.clinic_id,
        detail={"file": entry["file"], "count": entry["count"]},
    )
    return path, entry


def manifest(job: BulkExportJob, base_url: str) -> dict[str, Any]:
    """The completion manifest of the Bulk Data Access specification."""
    assert job.transaction_time is not None
    return {
        "transactionTime": job.transaction_time.isoformat().replace("+00:00", "Z"),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": entry["type"],
                "url": f"{base_url}/fhir/$export-file/{job.id}/{entry['file']}",
                "count": entry["count"],
            }
            for entry in job.output
        ],
        "error": [],
    }


# --- the worker's side ---------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A job this worker holds; `attempts` identifies this very claim."""

    job_id: uuid.UUID
    worker_id: str
    attempts: int
    clinic_id: uuid.UUID | None
    types: tuple[str, ...]
    since: datetime | None
    level: ExportLevel


def _due(now: datetime) -> Any:
    return or_(
        BulkExportJob.status == ExportStatus.QUEUED,
        and_(BulkExportJob.status == ExportStatus.RUNNING, BulkExportJob.lease_until <= now),
    )


def _claim_of(job: BulkExportJob) -> Claim:
    assert job.leased_by is not None
    return Claim(
        job.id,
        job.leased_by,
        job.attempts,
        job.clinic_id,
        tuple(job.types),
        job.since,
        job.level,
    )


def _give_up(job: BulkExportJob, now: datetime) -> None:
    job.status, job.finished_at = ExportStatus.FAILED, now
    job.error = f"the worker stopped during the export {job.attempts} times"
    job.leased_by, job.lease_until = None, None


def claim(
    factory: sessionmaker[Session],
    worker_id: str,
    lease: timedelta,
    now: datetime | None = None,
) -> Claim | None:
    """The next due export (queued, or running with an expired lease), leased to worker_id."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        stmt = select(BulkExportJob).where(_due(now)).order_by(BulkExportJob.created_at)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.limit(5).with_for_update(skip_locked=True)
        else:
            stmt = stmt.limit(20)
        for job in session.execute(stmt).scalars():
            if job.status is ExportStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
                _give_up(job, now)
                continue
            won = session.execute(
                update(BulkExportJob)
                .where(
                    BulkExportJob.id == job.id,
                    BulkExportJob.status == job.status,
                    BulkExportJob.attempts == job.attempts,
                )
                .values(
                    status=ExportStatus.RUNNING,
                    leased_by=worker_id,
                    lease_until=now + lease,
                    attempts=job.attempts + 1,
                    started_at=now,
                    patients_done=0,
                )
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(job)
                return _claim_of(job)
        return None


def _held(session: Session, held: Claim) -> BulkExportJob | None:
    stmt = select(BulkExportJob).where(
        BulkExportJob.id == held.job_id,
        BulkExportJob.status == ExportStatus.RUNNING,
        BulkExportJob.leased_by == held.worker_id,
        BulkExportJob.attempts == held.attempts,
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def heartbeat(
    factory: sessionmaker[Session],
    held: Claim,
    lease: timedelta,
    *,
    done: int,
    total: int | None,
) -> bool:
    """Record progress and renew the lease; False when the job was cancelled or taken over."""
    with unit_of_work(factory) as session:
        job = _held(session, held)
        if job is None:
            return False
        job.patients_done, job.lease_until = done, utcnow() + lease
        if total is not None:
            job.patients_total = total
        return True


def complete(
    factory: sessionmaker[Session],
    held: Claim,
    output: list[dict[str, Any]],
    transaction_time: datetime,
) -> bool:
    """Store the manifest's files and mark the job done, audited with the counts written."""
    with unit_of_work(factory) as session:
        job = _held(session, held)
        if job is None:
            return False
        job.status, job.finished_at, job.error = ExportStatus.DONE, utcnow(), None
        job.output, job.transaction_time, job.lease_until = output, transaction_time, None
        job.patients_done = job.patients_total or job.patients_done
        audit.record(
            session,
            cli_actor(WORKER),
            "export",
            "fhir_bulk_export",
            job.id,
            clinic_id=job.clinic_id,
            detail={
                "requested_by": job.requested_by,
                "patients": job.patients_done,
                "types": {entry["type"]: entry["count"] for entry in output},
                "since": job.since,
            },
        )
        return True


def fail(factory: sessionmaker[Session], held: Claim, error: str) -> ExportStatus | None:
    """Put the job back in the queue, or give it up after MAX_ATTEMPTS; None if not held."""
    with unit_of_work(factory) as session:
        job = _held(session, held)
        if job is None:
            return None
        job.error, job.leased_by, job.lease_until = error[:2000], None, None
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = ExportStatus.FAILED, utcnow()
        else:
            job.status = ExportStatus.QUEUED
        return job.status


def parse_types(value: str | None, supported: tuple[str, ...]) -> tuple[str, ...]:
    """`_type` as a tuple of supported resource types (all of them when absent)."""
    if value is None or not value.strip():
        return supported
    asked = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in asked if t not in supported]
    if unknown:
        raise InvalidInput(
            f"_type names resource types this server does not export: {', '.join(unknown)} "
            f"(it exports {', '.join(supported)})",
            "_type",
        )
    return tuple(dict.fromkeys(asked))
