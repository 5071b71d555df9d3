"""The Progress tab and the progress report (HTML and PDF).

Patients see their own tab and report (the patient scope check answers 403 for anyone else's);
every view and download is audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.config import Settings
from mesoclinic.outcomes import plan_reviews, report
from mesoclinic.outcomes.responders import ResponderStatus
from mesoclinic.outcomes.schemas import PlanReviewCreate
from mesoclinic.patients.pages import patient_page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.forms import PostedForm, form_values, submit_form, validate
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
PlanWriter = Annotated[Actor, Allowed(Permission.PLAN_WRITE)]
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/patients/{patient_id}/progress", response_class=HTMLResponse)
def progress_tab(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
) -> Response:
    return _progress(request, session, actor, settings, patient_id)


def _progress(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    patient_id: uuid.UUID,
    review_form: tuple[dict[str, str], dict[str, str]] | None = None,
) -> Response:
    """The tab; `review_form` (values, errors) re-shows a refused plan review."""
    progress = report.load_progress(session, actor, patient_id, settings)
    ctx = report.context(session, actor, progress, settings, for_print=False)
    ctx["is_patient"] = actor.role is Role.PATIENT
    staff_can_change = actor.can(Permission.PLAN_WRITE) and actor.role is not Role.PATIENT
    ctx["plan_link"] = f"/patients/{patient_id}/plan" if staff_can_change else None
    # The review card shows only for a non-responder: read the latest review only then.
    asks = staff_can_change and progress.responder.status is ResponderStatus.NON_RESPONDER
    latest = plan_reviews.latest(session, actor, progress.patient) if asks else None
    newest = max((m.created_at for m in progress.measurements), default=None)
    ctx["plan_review"] = latest
    ctx["plan_review_current"] = plan_reviews.still_current(latest, newest)
    ctx["review_values"], ctx["review_errors"] = review_form or ({}, {})
    status = 422 if review_form else 200
    return patient_page(
        request, actor, progress.patient, "progress", "outcomes/progress.html", ctx, status
    )


@router.post("/patients/{patient_id}/progress/plan-review", response_class=HTMLResponse)
def review_plan(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: PlanWriter,
    settings: SettingsDep,
) -> Response:
    """ "Continue the plan unchanged" after a non-responder verdict, with the reason."""
    values = form_values(form)
    data, errors = validate(PlanReviewCreate, values)

    def save(data: PlanReviewCreate) -> Response:
        b = report.books(settings)
        plan_reviews.record(session, actor, patient_id, data, b.kinds, b.responders, b.baseline)
        return redirect(
            f"/patients/{patient_id}/progress",
            "Review recorded: the plan continues unchanged. The dashboard asks again when a "
            "new value is measured.",
        )

    def show_form(errors: dict[str, str]) -> Response:
        return _progress(request, session, actor, settings, patient_id, (values, errors))

    return submit_form(session, data, errors, save, show_form)


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
