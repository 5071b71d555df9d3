"""The dashboard: what each role needs first, plus the guided tour of the demo clinic."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mesoclinic import areas
from mesoclinic.demo.tour import tour_steps
from mesoclinic.patients import service as patient_service
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import DbSession, require
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, session: DbSession, actor: Annotated[Actor, Depends(require(Permission.SELF))]
) -> Response:
    if actor.role is Role.PATIENT and actor.patient_id:
        # A patient lands on what they need between sessions: plan, next visits, precautions.
        return RedirectResponse(f"/patients/{actor.patient_id}/aftercare", status_code=303)
    found = (
        patient_service.find(session, actor, patient_service.PatientQuery(), limit=8)
        if actor.can(Permission.PATIENT_READ)
        else patient_service.Found([], 0, False)
    )
    panels = [panel(session, actor) for panel in areas.panel_sources()]
    tour = tour_steps(session, actor) if getattr(request.app.state, "show_tour", False) else []
    return render(
        request,
        "dashboard.html",
        {
            "recent": found.rows,
            "total": found.total,
            "total_capped": found.capped,
            "tour": tour,
            "panels": [p for p in panels if p],
        },
    )
