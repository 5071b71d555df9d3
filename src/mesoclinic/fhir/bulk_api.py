"""Bulk Data Access routes: `$export` kick-off (system, Group = clinic, Patient), status polling,
cancel and the NDJSON files, served to the account that asked and nobody else.

The kick-off is a GET (as the specification has it) that queues a job: the job row is written
through the read transaction's deferred-write queue, the same path as the audit entries, so the
GET takes no write lock while it checks the request (docs/decisions.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from mesoclinic.errors import DomainError
from mesoclinic.fhir import bulk, bulk_export
from mesoclinic.fhir.bulk_models import ExportLevel, ExportStatus
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/fhir", tags=["fhir"])
Exporter = Annotated[Actor, Allowed(Permission.FHIR_BULK_EXPORT)]
NDJSON_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
RETRY_SECONDS = 2


class BadRequest(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field, "invalid", 400)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _since(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise BadRequest(
            "_since must be a FHIR instant such as 2026-01-31T09:00:00Z", "_since"
        ) from error
    if parsed.tzinfo is None:
        raise BadRequest("_since needs a time zone (Z or +01:00)", "_since")
    return parsed.astimezone(UTC)


def _kick_off(
    request: Request,
    session: DbSession,
    actor: Actor,
    level: ExportLevel,
    prefer: str | None,
    types: str | None,
    since: str | None,
    output_format: str | None,
    group: uuid.UUID | None = None,
) -> Response:
    if "respond-async" not in (prefer or "").lower():
        raise BadRequest("A bulk export runs asynchronously: send Prefer: respond-async", "Prefer")
    if output_format is not None and output_format not in NDJSON_FORMATS:
        raise BadRequest(
            "_outputFormat: this server writes application/fhir+ndjson", "_outputFormat"
        )
    export_request = bulk.ExportRequest(
        level=level,
        types=bulk.parse_types(types, bulk_export.SUPPORTED_TYPES),
        since=_since(since),
        request_url=str(request.url),
        group_clinic_id=group,
    )
    job = bulk.kick_off(session, actor, export_request)
    return Response(
        status_code=202,
        headers={"Content-Location": f"{_base(request)}/fhir/$export-status/{job.id}"},
    )


Prefer = Annotated[str | None, Header()]
Types = Annotated[str | None, Query(alias="_type", max_length=1000)]
Since = Annotated[str | None, Query(alias="_since", max_length=40)]
OutputFormat = Annotated[str | None, Query(alias="_outputFormat", max_length=60)]


def _level(level: ExportLevel) -> Callable[[Request], None]:
    """A route dependency that tells the kick-off which endpoint was asked."""

    def scope(request: Request) -> None:
        request.state.export_scope = (level, None)

    return scope


def _group(request: Request, group_id: uuid.UUID) -> None:
    """`Group/{group_id}/$export`: one clinic (the path's id, checked as a UUID)."""
    request.state.export_scope = (ExportLevel.GROUP, group_id)


def export_kick_off(
    request: Request,
    session: DbSession,
    actor: Exporter,
    prefer: Prefer = None,
    types: Types = None,
    since: Since = None,
    output_format: OutputFormat = None,
) -> Response:
    """Kick off an export (the level and clinic come from the route's own dependency)."""
    level, group = request.state.export_scope
    return _kick_off(
        request, session, actor, level, prefer, types, since, output_format, group=group
    )


# The three kick-off endpoints: one function, told apart by their route dependency.
KICK_OFFS: tuple[tuple[str, str, Callable[..., None], str], ...] = (
    (
        "/$export",
        "export_system",
        _level(ExportLevel.SYSTEM),
        "Kick off an export of every patient in scope (your clinic; a group admin: every clinic).",
    ),
    (
        "/Patient/$export",
        "export_patients",
        _level(ExportLevel.PATIENT),
        "Kick off an export of all patients in scope (the same patients as the system export).",
    ),
    (
        "/Group/{group_id}/$export",
        "export_group",
        _group,
        "Kick off an export of one clinic (a Group is a clinic; staff may name only their own).",
    ),
)
for _path, _name, _scope, _description in KICK_OFFS:
    router.add_api_route(
        _path,
        export_kick_off,
        methods=["GET"],
        status_code=202,
        response_class=Response,
        dependencies=[Depends(_scope)],
        name=_name,
        summary=_description.split(" (")[0],
        description=_description,
    )


@router.get("/$export-status/{job_id}", response_class=Response)
def export_status(
    job_id: uuid.UUID, request: Request, session: DbSession, actor: Exporter
) -> Response:
    """202 with X-Progress while the export runs, 200 and the manifest when it is done."""
    job = bulk.own_job(session, actor, job_id)
    if job.status is ExportStatus.DONE:
        return JSONResponse(
            bulk.manifest(job, _base(request)),
            headers={"Expires": "0"},
        )
    if job.status is ExportStatus.FAILED:
        return JSONResponse(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "exception",
                        "diagnostics": f"The export failed: {job.error or 'unknown error'}",
                    }
                ],
            },
            status_code=500,
            media_type="application/fhir+json",
        )
    if job.status is ExportStatus.QUEUED:
        progress = "queued"
    elif job.patients_total is None:
        progress = "starting"
    else:
        progress = f"{job.patients_done} of {job.patients_total} patients"
    return Response(
        status_code=202,
        headers={"X-Progress": progress, "Retry-After": str(RETRY_SECONDS)},
    )


@router.delete("/$export-status/{job_id}", status_code=202, response_class=Response)
def export_cancel(
    job_id: uuid.UUID, session: DbSession, actor: Exporter, settings: SettingsDep
) -> Response:
    """Cancel the export (or delete a finished one's files); the status URL then answers 404."""
    bulk.cancel(session, actor, job_id, settings.data_dir)
    return Response(status_code=202)


@router.get("/$export-file/{job_id}/{file_name}", response_class=FileResponse)
def export_file(
    job_id: uuid.UUID, file_name: str, session: DbSession, actor: Exporter, settings: SettingsDep
) -> FileResponse:
    """One NDJSON file of a finished export (requester only; the read is audited)."""
    name = file_name.removesuffix(".ndjson")
    if name == file_name:
        raise DomainError("Export file not found", None, "not_found", 404)
    path, _entry = bulk.file_path(session, actor, job_id, name, settings.data_dir)
    return FileResponse(path, media_type="application/fhir+ndjson", filename=path.name)
