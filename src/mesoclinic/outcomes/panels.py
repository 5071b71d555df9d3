"""Dashboard panel for clinicians: patients on an active plan whose measured values meet the
non-responder rule, each linking to the plan page (pause or change the protocol there) and to
the Progress tab.

The dashboard gives panels no settings, so the panel judges with the packaged measurement kinds
and responder rulebook (cached loaders) and the default baseline rule; the Progress tab, which
has the settings, is where a clinic's own rulebook applies.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.responder_review import non_responders
from mesoclinic.outcomes.responders import load_responder_rules
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.dashboard import Panel


def review_plan_panel(session: Session, actor: Actor) -> Panel | None:
    """For clinicians of a clinic: "review the plan" for each of its non-responders."""
    if actor.role is Role.PATIENT or actor.clinic_id is None:
        return None
    if not (actor.can(Permission.PLAN_WRITE) and actor.can(Permission.OUTCOME_READ)):
        return None
    found = non_responders(session, actor, actor.clinic_id, load_kinds(), load_responder_rules())
    lines: list[tuple[str, str | None]] = []
    for r in found:
        lines.append((f"{r.name}: review the plan", f"/patients/{r.patient_id}/plan"))
        lines.append((f"{r.name}: measured progress", f"/patients/{r.patient_id}/progress"))
    if not lines:
        return None
    return Panel("Review the plan: no measured response", lines, "warn")
