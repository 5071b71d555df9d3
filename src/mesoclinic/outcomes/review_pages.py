"""The review page of a trichoscopy image: the overlay, the automatic and corrected counts, and
the correction (click to remove or add a hair; a plain form without JavaScript)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.outcomes import followup, review
from mesoclinic.outcomes.models import AnalysisKind, JobStatus
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.pages import patient_page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import PostedForm, submit_form
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
PENDING = {JobStatus.QUEUED.value, JobStatus.RUNNING.value}


def parse_added(text: str) -> list[list[float]]:
    """Lines of 'exit x, exit y, shaft x, shaft y' (or just 'x, y': a short upward shaft)."""
    hairs = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = [p for p in line.replace(";", ",").replace(" ", ",").split(",") if p]
        if not parts:
            continue
        try:
            numbers = [float(p) for p in parts]
        except ValueError as error:
            raise ValueError(f"line {n}: use numbers like 412, 388, 440, 350") from error
        if len(numbers) == 2:
            numbers += [numbers[0], max(0.0, numbers[1] - 30.0)]
        if len(numbers) != 4:
            raise ValueError(f"line {n}: give exit x, exit y and optionally shaft x, shaft y")
        hairs.append(numbers)
    return hairs


def _context(session: Session, actor: Actor, image_id: uuid.UUID) -> dict[str, Any]:
    status = review.analysis_status(session, actor, image_id)
    image = review.load_image(session, actor, image_id, Permission.OUTCOME_READ)
    analysis = status.analysis
    reviewed = analysis.review if analysis else None
    removed = set(reviewed.removed) if reviewed else set()
    site_results = followup.for_site(session, image)
    growth = [
        job for job in status.jobs if job.kind == AnalysisKind.GROWTH.value and job.status != "done"
    ]
    return {
        "image": image,
        "status": status.status,
        "pending": status.status in PENDING,
        "analysis": analysis,
        "review": reviewed,
        "removed": removed,
        "added": reviewed.added if reviewed else [],
        "jobs": status.jobs,
        "follow_ups": [a.result for a in site_results],
        "growth_pending": growth,
        "can_write": actor.can(Permission.OUTCOME_WRITE),
    }


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    image_id: uuid.UUID,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(session, actor, image_id)
    ctx["errors"] = errors or {}
    patient = patient_service.load(session, actor, ctx["image"].patient_id, Permission.OUTCOME_READ)
    return patient_page(
        request, actor, patient, "images", "outcomes/review.html", ctx, status_code=status_code
    )


@router.get("/images/{image_id}/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    image_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.OUTCOME_READ)],
) -> Response:
    return _page(request, session, actor, image_id)


@router.post("/images/{image_id}/review", response_class=HTMLResponse)
def save_review(
    request: Request,
    form: PostedForm,
    image_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)],
) -> Response:
    """Save the correction: ticked hairs removed, listed coordinates added."""
    errors: dict[str, str] = {}
    image = review.load_image(session, actor, image_id, Permission.OUTCOME_WRITE)
    latest = next(iter(review.analyses_of(session, image.id)), None)
    correction: tuple[list[list[float]], list[int]] | None = None
    if latest is None:
        errors["removed"] = "This image has not been analysed yet"
    else:
        try:
            added = parse_added(str(form.get("added", "")))
            removed = [int(str(v)) for v in form.getlist("removed")]
            correction = (added, removed)
        except ValueError as error:
            errors["added"] = str(error)

    def save(correction: tuple[list[list[float]], list[int]]) -> Response:
        assert latest is not None  # a correction is only parsed for an analysed image
        saved = review.record_review(session, actor, latest.id, *correction)
        return redirect(
            f"/images/{image_id}/review",
            f"Correction saved: {saved.corrected_count} hairs "
            f"(automatic count {saved.automatic_count}).",
        )

    def show_form(errors: dict[str, str]) -> Response:
        return _page(request, session, actor, image_id, errors, 422)

    return submit_form(session, correction, errors, save, show_form)
