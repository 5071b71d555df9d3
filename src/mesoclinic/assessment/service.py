"""Assessment use cases: record, read, preview, override, void; and the treatment gate.

Services flush, never commit. `facts_from_record` and `treatment_gate` (in gate.py) are what the
visits and plans areas call.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from mesoclinic.assessment import staging as staging_rules
from mesoclinic.assessment.facts import STATED_FACTS, build_facts, history_facts
from mesoclinic.assessment.gate import (
    facts_from_record,
    latest_assessment,
    treatment_gate,
)
from mesoclinic.assessment.models import Assessment, DecisionOverride
from mesoclinic.assessment.rulebook import Rulebook
from mesoclinic.assessment.rules import Decision, PatientFacts, needs_override, screen
from mesoclinic.assessment.schemas import AssessmentCreate, OverrideCreate, Staging
from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from mesoclinic.findings import Finding
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

__all__ = [
    "Prepared",
    "add_override",
    "awaiting_override",
    "create",
    "decision_view",
    "facts_from_record",
    "gate",
    "get",
    "latest_assessment",
    "list_for",
    "prepare",
    "preview",
    "treatment_gate",
    "void",
]
# A pull test is positive when more than 10 % of ~50 pulled hairs come out
# (docs/clinical-sources.md#outcome-measures).
PULL_TEST_POSITIVE_ABOVE = 5


@dataclass(frozen=True)
class StagingResult:
    scale: str | None = None
    grade: str | None = None
    regions: dict[str, float] | None = None
    salt_severity: str | None = None


@dataclass(frozen=True)
class Prepared:
    """An assessment's derived values and decision, before anything is stored."""

    staging: StagingResult
    code: staging_rules.DiagnosisCode
    facts: PatientFacts
    stated: dict[str, Any]
    decision: Decision


def _stage(staging: Staging | None, sex: str) -> StagingResult:
    if staging is None:
        return StagingResult()
    try:
        staging_rules.check_scale_for_sex(staging.scale, sex)
        if staging.regions is not None:
            regions = staging.regions.model_dump()
            grade = f"{staging_rules.salt_score(regions):g}"
        else:
            regions = None
            grade = staging_rules.normalise_grade(staging.scale, staging.grade)
    except staging_rules.StagingError as exc:
        raise InvalidInput(str(exc), exc.field) from exc
    severity = staging_rules.salt_severity(float(grade)) if staging.scale == "salt" else None
    return StagingResult(staging.scale, grade, regions, severity)


def prepare(patient: Patient, data: AssessmentCreate, rulebook: Rulebook) -> Prepared:
    """Derive stage, codes, facts and decision for an assessment without storing anything."""
    assessed_at = data.assessed_at or utcnow()
    stage = _stage(data.staging, patient.sex)
    stated: dict[str, Any] = {
        name: getattr(data, name) for name in STATED_FACTS if getattr(data, name) is not None
    }
    if data.allergies is not None:
        stated["allergies"] = sorted({a.lower() for a in data.allergies})
    if data.conditions is not None:
        stated["conditions"] = sorted(set(data.conditions))
    findings = {
        "scalp_infection": data.scalp_infection,
        "open_wound": data.open_wound,
        "herpes_active": data.herpes_active,
        "diagnosis": data.diagnosis,
        "staging_scale": stage.scale,
        "staging_grade": stage.grade,
    }
    facts = build_facts(history_facts(patient, assessed_at.date()), stated, findings)
    return Prepared(
        stage,
        staging_rules.DIAGNOSIS_CODES[data.diagnosis],
        facts,
        stated,
        screen(facts, rulebook),
    )


def _active_patient(
    session: Session, actor: Actor, patient_id: uuid.UUID, permission: Permission
) -> Patient:
    patient = patient_service.load(session, actor, patient_id, permission)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    return patient


def preview(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: AssessmentCreate,
    rulebook: Rulebook,
) -> Prepared:
    """The decision the assessment would get; stores nothing but audits the history read."""
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_WRITE)
    prepared = prepare(patient, data, rulebook)
    audit.record(
        session,
        actor,
        "read",
        "medical_history",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"purpose": "assessment preview"},
    )
    return prepared


def create(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: AssessmentCreate,
    rulebook: Rulebook,
) -> Assessment:
    """Record an assessment with the decision made on it and the rulebook version used."""
    patient = _active_patient(session, actor, patient_id, Permission.ASSESSMENT_WRITE)
    patient_service.check_clinical_date(
        patient, data.assessed_at, "assessed_at", "The assessment date"
    )
    prepared = prepare(patient, data, rulebook)
    stage = prepared.staging
    pull_positive = (
        data.pull_test_hairs > PULL_TEST_POSITIVE_ABOVE
        if data.pull_test_hairs is not None
        else None
    )
    assessment = Assessment(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        assessed_at=data.assessed_at or utcnow(),
        assessed_by=actor.username,
        complaint=data.complaint,
        complaint_duration_months=data.complaint_duration_months,
        diagnosis=data.diagnosis,
        icd10=prepared.code.icd10,
        snomed=prepared.code.snomed,
        staging_scale=stage.scale,
        staging_grade=stage.grade,
        salt_regions=stage.regions,
        salt_severity=stage.salt_severity,
        pull_test_hairs=data.pull_test_hairs,
        pull_test_positive=pull_positive,
        wash_test_count=data.wash_test_count,
        comb_count=data.comb_count,
        scalp_infection=data.scalp_infection,
        open_wound=data.open_wound,
        herpes_active=data.herpes_active,
        scalp_inflammation=data.scalp_inflammation,
        scalp_notes=data.scalp_notes,
        facts={**asdict(prepared.facts), "stated": prepared.stated},
        candidacy=prepared.decision.candidacy,
        decision={**prepared.decision.as_dict(), "overrides": []},
        rulebook_version=prepared.decision.rulebook_version,
        created_by=actor.username,
        updated_by=actor.username,
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "assessment",
        assessment.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={
            "candidacy": assessment.candidacy,
            "rulebook_version": assessment.rulebook_version,
            "contraindications": [f.rule_id for f in prepared.decision.contraindications],
        },
    )
    return assessment


def list_for(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Assessment]:
    """The patient's assessments, newest first (entered-in-error ones included, marked)."""
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_READ)
    rows = (
        session.execute(
            select(Assessment)
            .where(Assessment.patient_id == patient.id)
            .order_by(Assessment.assessed_at.desc(), Assessment.created_at.desc())
        )
        .scalars()
        .all()
    )
    audit.record(
        session,
        actor,
        "read",
        "assessment",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"returned": len(rows)},
    )
    return list(rows)


def _load(
    session: Session, patient: Patient, assessment_id: uuid.UUID, *, for_update: bool = False
) -> Assessment:
    assessment = session.get(Assessment, assessment_id, with_for_update=for_update)
    if assessment is None or assessment.patient_id != patient.id:
        raise NotFound("Assessment not found")
    return assessment


def get(
    session: Session, actor: Actor, patient_id: uuid.UUID, assessment_id: uuid.UUID
) -> Assessment:
    """One assessment, auditing the read."""
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_READ)
    assessment = _load(session, patient, assessment_id)
    audit.record(
        session,
        actor,
        "read",
        "assessment",
        assessment.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return assessment


def _fired(assessment: Assessment) -> dict[str, dict[str, Any]]:
    decision = assessment.decision
    return {
        f["rule_id"]: f for f in (*decision["candidacy_findings"], *decision["contraindications"])
    }


def add_override(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    data: OverrideCreate,
) -> DecisionOverride:
    """A clinician goes ahead despite a relative or not-recommended finding, with a reason."""
    patient = _active_patient(session, actor, patient_id, Permission.DECISION_OVERRIDE)
    # Locked so two clinicians overriding at once cannot both pass the "already" check.
    assessment = _load(session, patient, assessment_id, for_update=True)
    if assessment.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This assessment was entered in error")
    finding = _fired(assessment).get(data.rule_id)
    if finding is None:
        raise InvalidInput(
            f"Rule {data.rule_id} did not fire on this assessment", "rule_id", code="rule_not_fired"
        )
    if finding["severity"] == "absolute":
        raise InvalidInput(
            f"{data.rule_id} is an absolute contraindication and cannot be overridden",
            "rule_id",
            code="override_not_allowed",
        )
    if finding["severity"] != "relative":
        raise InvalidInput(
            f"{data.rule_id} does not block treatment; there is nothing to override",
            "rule_id",
            code="override_not_needed",
        )
    if any(o.rule_id == data.rule_id for o in assessment.overrides):
        raise Conflict(f"{data.rule_id} is already overridden on this assessment", "rule_id")
    override = DecisionOverride(
        assessment_id=assessment.id,
        rule_id=data.rule_id,
        severity=finding["severity"],
        reason=data.reason,
        created_by=actor.username,
    )
    session.add(override)
    session.flush()
    # Reassigned (not mutated) so the JSON column is written.
    assessment.decision = {
        **assessment.decision,
        "overrides": [
            *assessment.decision.get("overrides", []),
            {
                "rule_id": data.rule_id,
                "reason": data.reason,
                "by": actor.username,
                "at": override.created_at.isoformat(),
            },
        ],
    }
    assessment.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "override",
        "assessment",
        assessment.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"rule_id": data.rule_id, "reason": data.reason},
    )
    return override


def void(
    session: Session, actor: Actor, patient_id: uuid.UUID, assessment_id: uuid.UUID, reason: str
) -> Assessment:
    """Mark an assessment entered-in-error; it stays visible and stops counting."""
    patient = _active_patient(session, actor, patient_id, Permission.ASSESSMENT_WRITE)
    assessment = _load(session, patient, assessment_id, for_update=True)
    patient_service.mark_entered_in_error(session, actor, assessment, reason, "assessment")
    audit.record(
        session,
        actor,
        "void",
        "assessment",
        assessment.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"reason": reason},
    )
    return assessment


def decision_view(assessment: Assessment) -> dict[str, Any]:
    """The stored decision with its overrides and what still needs one."""
    overridden = {o.rule_id for o in assessment.overrides}
    return {
        **assessment.decision,
        "overrides": list(assessment.overrides),
        "needs_override": needs_override(assessment.decision, overridden),
    }


def preview_view(prepared: Prepared) -> dict[str, Any]:
    """A preview's decision in the same shape as a stored one."""
    decision = prepared.decision.as_dict()
    return {**decision, "overrides": [], "needs_override": needs_override(decision, set())}


def gate(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    rulebook: Rulebook,
    procedure: str = "mesotherapy",
) -> list[Finding]:
    """The treatment gate for a patient the actor may see, auditing the read."""
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_READ)
    findings = treatment_gate(session, patient.id, rulebook, procedure)
    audit.record(
        session,
        actor,
        "read",
        "treatment_gate",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"procedure": procedure, "blocking": [f.rule_id for f in findings]},
    )
    return findings


def awaiting_override(
    session: Session, actor: Actor, *, limit: int = 8
) -> list[tuple[Patient, Assessment, list[str]]]:
    """Patients whose latest assessment waits for a clinician's override (actor's clinic).

    The stored `awaiting_override` flag and an index answer it: the first `limit` rows, never
    the clinic's assessments loaded into Python.
    """
    actor.require(Permission.DECISION_OVERRIDE)
    newer = aliased(Assessment)
    superseded = (
        select(newer.id)
        .where(
            newer.patient_id == Assessment.patient_id,
            newer.status == RecordStatus.ACTIVE,
            newer.assessed_at > Assessment.assessed_at,
        )
        .exists()
    )
    stmt = (
        select(Assessment, Patient)
        .join(Patient, Patient.id == Assessment.patient_id)
        .where(
            Assessment.awaiting_override.is_(True),
            Assessment.status == RecordStatus.ACTIVE,
            Patient.status == RecordStatus.ACTIVE,
            ~superseded,
        )
        .options(selectinload(Assessment.overrides))
        .order_by(Assessment.assessed_at.desc())
        .limit(limit)
    )
    if not actor.is_group_admin:
        stmt = stmt.where(Assessment.clinic_id == actor.clinic_id)
    waiting = [
        (patient, assessment, decision_view(assessment)["needs_override"])
        for assessment, patient in session.execute(stmt).all()
    ]
    audit.record(
        session,
        actor,
        "search",
        "assessment",
        None,
        clinic_id=actor.clinic_id,
        detail={"purpose": "awaiting override", "returned": [str(p.id) for p, _, _ in waiting]},
    )
    return waiting
