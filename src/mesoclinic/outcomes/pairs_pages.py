"""The image page's two pair forms, plain posts without JavaScript: link a phototrichogram pair
(GROWTH job) and compare with an earlier image of the site (FOLLOW_UP job). A refusal comes back
as the image page with the error beside the field, and nothing queued."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.outcomes import followup, growth_pairs
from mesoclinic.outcomes.images_pages import render_image_page
from mesoclinic.outcomes.models import AnalysisJob
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import PostedForm, form_values, submit_form
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]
Link = Callable[[Session, Actor, uuid.UUID, uuid.UUID], AnalysisJob]


def _post_pair(
    request: Request,
    form: PostedForm,
    image_id: uuid.UUID,
    session: Session,
    actor: Actor,
    *,
    prefix: str,
    link: Link,
    anchor: str,
    done: str,
) -> Response:
    """Queue the pair's job via `link`; errors are keyed `{prefix}_second_image_id` so the page
    shows them beside the right one of its two selects."""
    values = form_values(form)
    chosen = values.get(growth_pairs.SECOND, "")
    second: uuid.UUID | None = None
    errors: dict[str, str] = {}
    try:
        second = uuid.UUID(chosen)
    except ValueError:
        errors[growth_pairs.SECOND] = "Choose an image from the list"

    def save(second: uuid.UUID) -> Response:
        link(session, actor, image_id, second)
        return redirect(f"/images/{image_id}#{anchor}", done)

    def show_form(errors: dict[str, str]) -> Response:
        # The chosen image is the form's only input: a refusal naming no field is about it
        # (e.g. an image id not found in this clinic).
        keyed = {f"{prefix}_{growth_pairs.SECOND}": v for v in errors.values()}
        posted = {f"{prefix}_{k}": v for k, v in values.items()}
        return render_image_page(request, session, actor, image_id, keyed, 422, posted)

    return submit_form(session, second, errors, save, show_form)


@router.post("/images/{image_id}/growth-pair", response_class=HTMLResponse)
def link_growth_pair(
    request: Request, form: PostedForm, image_id: uuid.UUID, session: DbSession, actor: Writer
) -> Response:
    """Pair this image with another of the same clipped site 1-5 days apart."""
    return _post_pair(
        request,
        form,
        image_id,
        session,
        actor,
        prefix="growth",
        link=growth_pairs.link,
        anchor="phototrichogram",
        done="Phototrichogram pair linked; the anagen/telogen analysis is queued.",
    )


@router.post("/images/{image_id}/follow-up", response_class=HTMLResponse)
def link_follow_up(
    request: Request, form: PostedForm, image_id: uuid.UUID, session: DbSession, actor: Writer
) -> Response:
    """Compare this image with an earlier image of its site, hair by hair."""
    return _post_pair(
        request,
        form,
        image_id,
        session,
        actor,
        prefix="follow_up",
        link=followup.link,
        anchor="follow-up",
        done="Follow-up comparison queued; hairs are matched one to one when it runs.",
    )
