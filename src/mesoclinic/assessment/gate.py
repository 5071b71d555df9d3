"""What other areas ask before planning or giving a treatment: facts on file and the gate."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.assessment.facts import BLEEDING_WINDOW_DAYS, build_facts, history_facts
from mesoclinic.assessment.models import Assessment
from mesoclinic.assessment.rulebook import Rulebook, get_rulebook
from mesoclinic.assessment.rules import PatientFacts, screen
from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import DomainError, NotFound
from mesoclinic.findings import Finding, RulebookError
from mesoclinic.patients.consent import current_consent
from mesoclinic.patients.history import active
from mesoclinic.patients.models import Patient

CONSENT_SOURCE = (
    "docs/clinical-sources.md#contraindications: informed consent, specific to the procedure"
)


def clinic_rulebook(path: Path | None) -> Rulebook:
    """The rulebook at `path` (Settings.rulebook); a broken file is reported, not a crash."""
    try:
        return get_rulebook(path)
    except RulebookError as exc:
        raise DomainError(
            f"The clinic's rulebook is invalid, so no decision can be made: {exc}",
            None,
            "rulebook_invalid",
            500,
        ) from exc


def latest_assessment(session: Session, patient_id: uuid.UUID) -> Assessment | None:
    """The patient's newest assessment that was not entered in error."""
    return session.execute(
        select(Assessment)
        .where(Assessment.patient_id == patient_id, Assessment.status == RecordStatus.ACTIVE)
        .order_by(Assessment.assessed_at.desc(), Assessment.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _still_stated(patient: Patient, assessment: Assessment, on_date: date) -> dict[str, Any]:
    """Facts stated at an earlier assessment that still stand on `on_date`.

    A later pregnancy-status entry in the history replaces what the assessment said; a stated
    "yes" to anticoagulants keeps counting (the cautious reading) but a stated "no" gives way to
    the history; recent supplements only count within the bleeding window.
    """
    stated = dict(assessment.facts.get("stated", {}))
    statuses = active(patient.pregnancy_statuses)
    if statuses and statuses[-1].recorded_at > assessment.assessed_at:
        stated.pop("pregnant", None)
        stated.pop("breastfeeding", None)
    if not stated.get("anticoagulants"):
        stated.pop("anticoagulants", None)
    window = timedelta(days=BLEEDING_WINDOW_DAYS)
    if on_date - assessment.assessed_at.date() > window or not stated.get(
        "recent_bleeding_risk_supplements"
    ):
        stated.pop("recent_bleeding_risk_supplements", None)
    return stated


def facts_from_record(
    session: Session,
    patient: Patient,
    *,
    on_date: date | None = None,
    cocktail_ingredients: Iterable[str] = (),
    drugs: Iterable[str] = (),
) -> PatientFacts:
    """The rule facts now: current history plus the latest assessment's diagnosis and scalp."""
    on_date = on_date or utcnow().date()
    history = history_facts(patient, on_date)
    latest = latest_assessment(session, patient.id)
    stated: dict[str, Any] = {}
    findings: dict[str, Any] = {}
    if latest is not None:
        stated = _still_stated(patient, latest, on_date)
        findings = {
            "scalp_infection": latest.scalp_infection,
            "open_wound": latest.open_wound,
            "herpes_active": latest.herpes_active,
            "diagnosis": latest.diagnosis,
            "staging_scale": latest.staging_scale,
            "staging_grade": latest.staging_grade,
        }
    return build_facts(
        history,
        stated,
        findings,
        cocktail_ingredients=tuple(cocktail_ingredients),
        drugs=tuple(drugs),
    )


def treatment_gate(
    session: Session, patient_id: uuid.UUID, rulebook: Rulebook, procedure: str = "mesotherapy"
) -> list[Finding]:
    """Why a treatment may not be planned or given now; an empty list means it may."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("Patient not found")
    blocking: list[Finding] = []
    if patient.status != RecordStatus.ACTIVE:
        blocking.append(
            Finding(
                "patient.voided",
                "refuse",
                "This record was entered in error and is voided.",
                "mesoclinic record rules",
            )
        )
    if current_consent(session, patient.id, procedure) is None:
        blocking.append(
            Finding(
                "consent.missing",
                "refuse",
                f"No current signed consent for {procedure} is on file.",
                CONSENT_SOURCE,
            )
        )
    latest = latest_assessment(session, patient.id)
    if latest is None:
        blocking.append(
            Finding(
                "assessment.missing",
                "refuse",
                "No hair-loss assessment is recorded: assess candidacy and "
                "contraindications first.",
                "mesoclinic workflow",
            )
        )
    decision = screen(facts_from_record(session, patient), rulebook)
    overridden = {o.rule_id for o in latest.overrides} if latest is not None else set()
    for finding in decision.contraindications:
        if finding.severity == "absolute" or finding.rule_id not in overridden:
            blocking.append(finding)
    if decision.candidacy == "not_recommended":
        blocking += [
            f
            for f in decision.candidacy_findings
            if f.severity == "relative" and f.rule_id not in overridden
        ]
    return blocking
