"""Dashboard panel for staff: the clinic's outbox health (patients land on their record)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mesoclinic.aftercare import outbox_admin
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.dashboard import Panel


def outbox_panel(session: Session, actor: Actor) -> Panel | None:
    """For staff: queued and failed patient emails."""
    if actor.role is Role.PATIENT or not actor.can(Permission.OUTBOX_READ):
        return None
    counts = outbox_admin.counts(session, actor)
    failed = counts.get("failed", 0)
    lines: list[tuple[str, str | None]] = [
        (f"{counts.get('queued', 0)} queued, {counts.get('sent', 0)} sent", "/admin/outbox"),
    ]
    if failed:
        lines.append((f"{failed} could not be delivered", "/admin/outbox?status=failed"))
    return Panel("Patient emails", lines, "bad" if failed else "")
