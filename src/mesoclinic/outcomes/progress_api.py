"""The patient's measurements as CSV: current values only, oldest first (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response

from mesoclinic.outcomes import report
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["outcomes"])
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/patients/{patient_id}/measurements.csv", response_class=Response)
def measurements_csv(
    patient_id: uuid.UUID, session: DbSession, actor: Reader, settings: SettingsDep
) -> Response:
    """The patient's current measurements as CSV (voided and superseded values left out)."""
    progress = report.load_progress(session, actor, patient_id, settings)
    report.audit_report(session, actor, progress, "csv")
    name = f"measurements-{progress.patient.record_number}.csv"
    return Response(
        report.measurements_csv(list(progress.measurements), report.books(settings).kinds),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE},
    )
