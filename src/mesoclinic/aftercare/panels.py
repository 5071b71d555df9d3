"""Dashboard panels: a patient's precautions now; the clinic's outbox health for staff."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mesoclinic.aftercare import outbox_admin, service
from mesoclinic.aftercare.rulebook import load
from mesoclinic.config import get_settings
from mesoclinic.db import utcnow
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.dashboard import PANELS, Panel


def patient_precautions_panel(session: Session, actor: Actor) -> Panel | None:
    """For a patient user: what to avoid right now and the next session."""
    if actor.role is not Role.PATIENT or actor.patient_id is None:
        return None
    view = service.overview(session, actor, actor.patient_id,
                            load(get_settings().aftercare_rulebook), utcnow())
    tz = ZoneInfo(view.timezone)
    link = f"/patients/{actor.patient_id}/aftercare"
    lines: list[tuple[str, str | None]] = [
        (f"Now: {w.title.lower()} until {w.ends_at.astimezone(tz):%a %d %b %H:%M}", link)
        for w in view.current]
    if view.appointments:
        first = view.appointments[0][0]
        lines.append((f"Next session: {first.starts_at.astimezone(tz):%a %d %b %Y %H:%M}", link))
    if not lines:
        lines.append(("No precaution applies right now.", link))
    return Panel("Your aftercare", lines, "warn" if view.current else "")


def outbox_panel(session: Session, actor: Actor) -> Panel | None:
    """For staff: queued and failed patient emails."""
    if actor.role is Role.PATIENT or not actor.can(Permission.OUTBOX_READ):
        return None
    counts = outbox_admin.counts(session, actor)
    failed = counts.get("failed", 0)
    lines: list[tuple[str, str | None]] = [
        (f"{counts.get('queued', 0)} queued, {counts.get('sent', 0)} sent",
         "/admin/outbox"),
    ]
    if failed:
        lines.append((f"{failed} could not be delivered", "/admin/outbox?status=failed"))
    return Panel("Patient emails", lines, "bad" if failed else "")


PANELS.append(patient_precautions_panel)
PANELS.append(outbox_panel)
