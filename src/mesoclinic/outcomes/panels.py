"""Dashboard panel for clinicians: patients whose measured values meet the non-responder rule,
each linking to the plan page, where the plan is paused or its protocol changed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.config import get_settings
from mesoclinic.outcomes import evidence
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.models import Measurement
from mesoclinic.outcomes.progress import BaselineRule
from mesoclinic.outcomes.responders import ResponderStatus, load_responder_rules
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.web.dashboard import Panel

SCANNED = 200  # patients with measurements, most recently measured first


def review_plan_panel(session: Session, actor: Actor) -> Panel | None:
    """For clinicians: "review the plan" for each non-responder of the clinic."""
    if actor.role is Role.PATIENT or not actor.can(Permission.PLAN_WRITE):
        return None
    settings = get_settings()
    book = load_kinds(settings.measurement_kinds)
    rules = load_responder_rules(settings.responder_rules)
    kinds = sorted({k for rule in rules.responder for k in rule.kinds})
    stmt = (
        select(Patient)
        .join(Measurement, Measurement.patient_id == Patient.id)
        .where(Measurement.kind.in_(kinds), Patient.status == "active")
        .group_by(Patient.id)
        .order_by(Patient.family_name, Patient.given_name)
        .limit(SCANNED)
    )
    if actor.role is not Role.ADMIN:
        stmt = stmt.where(Patient.clinic_id == actor.clinic_id)
    lines: list[tuple[str, str | None]] = []
    for patient in session.execute(stmt).scalars():
        progress = evidence.patient_progress(
            session,
            actor,
            patient.id,
            book,
            rules,
            BaselineRule(settings.progress_baseline),
            with_images=False,
        )
        if progress.responder.status is ResponderStatus.NON_RESPONDER:
            name = f"{patient.given_name} {patient.family_name}"
            lines.append((f"{name}: review the plan", f"/patients/{patient.id}/plan"))
            lines.append((f"{name}: measured progress", f"/patients/{patient.id}/progress"))
    if not lines:
        return None
    return Panel("Review the plan: no measured response", lines, "warn")
