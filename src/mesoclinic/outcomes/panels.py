"""Dashboard panel for clinicians: patients on an active plan whose measured values meet the
non-responder rule, each linking to the plan page (pause or change the protocol there); the
first `PANEL_LIMIT` by name, then "Show all (N)" to the whole list (`plan_review_pages`), where
each also links to the Progress tab.

The dashboard gives panels no settings, so the panel judges with the packaged measurement kinds
and responder rulebook (cached loaders) and the default baseline rule; the Progress tab, which
has the settings, is where a clinic's own rulebook applies.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mesoclinic.errors import Forbidden
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.responder_review import ToReview, non_responders
from mesoclinic.outcomes.responders import load_responder_rules
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.dashboard import Panel

PANEL_LIMIT = 8  # patients shown on the dashboard; the rest behind "Show all (N)"
TITLE = "Review the plan: no measured response"
FULL_LIST = "/outcomes/plans-to-review"


def reviews_clinic_plans(actor: Actor) -> bool:
    """A clinic's staff who may change plans and read outcomes (not a patient, not the group's
    admin, who belongs to no clinic)."""
    return (
        actor.role is not Role.PATIENT
        and actor.clinic_id is not None
        and actor.can(Permission.PLAN_WRITE)
        and actor.can(Permission.OUTCOME_READ)
    )


def plans_to_review(session: Session, actor: Actor) -> list[ToReview]:
    """The caller's clinic's non-responders by name (audited by `judge_clinic`)."""
    if not reviews_clinic_plans(actor) or actor.clinic_id is None:
        raise Forbidden("Only a clinic's clinicians review its plans")
    return non_responders(session, actor, actor.clinic_id, load_kinds(), load_responder_rules())


def review_plan_panel(session: Session, actor: Actor) -> Panel | None:
    """For clinicians of a clinic: "review the plan" for its first non-responders by name."""
    if not reviews_clinic_plans(actor):
        return None
    found = plans_to_review(session, actor)
    if not found:
        return None
    lines: list[tuple[str, str | None]] = [
        (f"{r.name}: review the plan", f"/patients/{r.patient_id}/plan")
        for r in found[:PANEL_LIMIT]
    ]
    more = (f"Show all ({len(found)})", FULL_LIST) if len(found) > PANEL_LIMIT else None
    return Panel(TITLE, lines, "warn", more)
