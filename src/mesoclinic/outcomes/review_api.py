"""JSON routes of an image's analysis: status and results, overlay, review, re-analysis, and
linking a phototrichogram pair or a same-site follow-up."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from mesoclinic.errors import NotFound
from mesoclinic.outcomes import followup, growth_pairs, jobs, review
from mesoclinic.outcomes.review_schemas import (
    ImageAnalysisStatus,
    JobRead,
    ReanalyseRequest,
    ReviewCreate,
    ReviewRead,
    SecondImage,
)
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, SettingsDep, created_once
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["image analysis"])

Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]


@router.get("/images/{image_id}/analysis", response_model=ImageAnalysisStatus)
def get_analysis(
    image_id: uuid.UUID,
    session: DbSession,
    actor: Reader,
    all: Annotated[bool, Query(description="every algorithm version, not just the latest")] = False,  # noqa: A002
) -> ImageAnalysisStatus:
    """The latest count of an image (with its review) and the state of its jobs."""
    return review.analysis_status(session, actor, image_id, all_versions=all)


@router.get(
    "/images/{image_id}/overlay.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def get_overlay(
    image_id: uuid.UUID,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    draw: Annotated[bool, Query(description="false: the image alone")] = True,
) -> Response:
    """The image with its detected hairs drawn on it (the review applied); every view audited."""
    png = review.overlay_png(
        session, actor, settings.images_dir, image_id, settings.image_max_pixels, draw=draw
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("/images/{image_id}/review", response_model=ReviewRead, status_code=201)
def post_review(
    image_id: uuid.UUID, body: ReviewCreate, session: DbSession, actor: Writer, once: Idempotency
) -> Response:
    """Correct the latest (or the named) count: hairs added and detected hairs removed."""

    def make() -> tuple[ReviewRead, str]:
        image = review.load_image(session, actor, image_id, Permission.OUTCOME_WRITE)
        analysis_id = body.analysis_id
        if analysis_id is None:
            latest = next(iter(review.analyses_of(session, image.id)), None)
            if latest is None:
                raise NotFound("This image has not been analysed yet")
            analysis_id = latest.id
        elif analysis_id not in {a.id for a in review.analyses_of(session, image.id)}:
            raise NotFound("Analysis not found for this image", field="analysis_id")
        saved = review.record_review(session, actor, analysis_id, body.added, body.removed)
        return ReviewRead.model_validate(saved), ""

    return created_once(session, actor, once, make)


@router.post("/images/{image_id}/reanalyse", response_model=list[JobRead], status_code=202)
def post_reanalyse(
    image_id: uuid.UUID,
    body: ReanalyseRequest,
    session: DbSession,
    actor: Writer,
    once: Idempotency,
) -> Response:
    """Queue a count with another algorithm version; earlier results stay beside it."""

    def make() -> tuple[list[JobRead], str]:
        review.load_image(session, actor, image_id, Permission.OUTCOME_WRITE)
        queued = jobs.reanalyse(session, actor, [image_id], body.algorithm_version)
        return [JobRead.model_validate(job) for job in queued], ""

    return created_once(session, actor, once, make, status_code=202)


@router.post("/images/{image_id}/growth-pair", response_model=JobRead, status_code=202)
def post_growth_pair(
    image_id: uuid.UUID, body: SecondImage, session: DbSession, actor: Writer, once: Idempotency
) -> Response:
    """Link a phototrichogram pair (same clipped site, 1-5 days apart) and queue its analysis."""

    def make() -> tuple[JobRead, str]:
        job = growth_pairs.link(session, actor, image_id, body.second_image_id)
        return JobRead.model_validate(job), ""

    return created_once(session, actor, once, make, status_code=202)


@router.post("/images/{image_id}/follow-up", response_model=JobRead, status_code=202)
def post_follow_up(
    image_id: uuid.UUID, body: SecondImage, session: DbSession, actor: Writer, once: Idempotency
) -> Response:
    """Compare a baseline with a later image of the same site, hair by hair."""

    def make() -> tuple[JobRead, str]:
        job = followup.link(session, actor, image_id, body.second_image_id)
        return JobRead.model_validate(job), ""

    return created_once(session, actor, once, make, status_code=202)
