"""The whole "review the plan" list of a clinic (the dashboard panel shows its first names).

For those who may change plans (plan:write): a clinic's clinicians see their clinic's list; the
group's administrator, who belongs to no clinic, an empty page saying so. The judgement is
audited once per view (`responder_review.judge_clinic`), as on the dashboard.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mesoclinic.outcomes.panels import TITLE, plans_to_review
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/outcomes/plans-to-review", response_class=HTMLResponse)
def plans_to_review_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PLAN_WRITE)],
) -> Response:
    found = plans_to_review(session, actor) if actor.clinic_id is not None else None
    return render(request, "outcomes/plans_to_review.html", {"title": TITLE, "found": found})
