"""The Progress tab and the progress report (HTML and PDF).

Patients see their own tab and report (the patient scope check answers 403 for anyone else's);
every view and download is audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mesoclinic.outcomes import report
from mesoclinic.patients.pages import patient_page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.security.permissions import Permission, Role

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/patients/{patient_id}/progress", response_class=HTMLResponse)
def progress_tab(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
) -> Response:
    progress = report.load_progress(session, actor, patient_id, settings)
    ctx = report.context(session, actor, progress, settings, for_print=False)
    ctx["is_patient"] = actor.role is Role.PATIENT
    staff_can_change = actor.can(Permission.PLAN_WRITE) and actor.role is not Role.PATIENT
    ctx["plan_link"] = f"/patients/{patient_id}/plan" if staff_can_change else None
    return patient_page(request, actor, progress.patient, "progress", "outcomes/progress.html", ctx)


@router.get("/patients/{patient_id}/report.html", response_class=HTMLResponse)
def report_page(
    patient_id: uuid.UUID, session: DbSession, actor: Reader, settings: SettingsDep
) -> Response:
    progress = report.load_progress(session, actor, patient_id, settings)
    ctx = report.context(session, actor, progress, settings, for_print=False)
    report.audit_report(session, actor, progress, "html")
    return HTMLResponse(report.render_html(ctx), headers=NO_STORE)


@router.get("/patients/{patient_id}/report.pdf")
def report_pdf(
    patient_id: uuid.UUID, session: DbSession, actor: Reader, settings: SettingsDep
) -> Response:
    progress = report.load_progress(session, actor, patient_id, settings)
    ctx = report.context(session, actor, progress, settings, for_print=True)
    report.audit_report(session, actor, progress, "pdf")
    name = f"progress-{progress.patient.record_number}.pdf"
    return Response(
        report.render_pdf(ctx),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE},
    )
