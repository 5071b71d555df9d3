"""A clinician's review of a plan whose measured values meet the non-responder rule.

Pausing, stopping or changing the protocol are the plan's own transitions; this records the
other outcome of a review, "continue unchanged", with its reason. The dashboard's "review the
plan" list then leaves the patient out until a value newer than the review's evidence is
recorded: new evidence asks the question again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import InvalidInput, InvalidTransition
from mesoclinic.outcomes.evidence import patient_progress
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import Measurement, MeasurementStatus, PlanReview
from mesoclinic.outcomes.progress import BaselineRule
from mesoclinic.outcomes.responders import ResponderBook, ResponderStatus
from mesoclinic.outcomes.schemas import PlanReviewCreate
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

CONTINUE = "continue"


def _newest_value_at(
    session: Session, patient_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each patient's newest current measurement was recorded."""
    rows = session.execute(
        select(Measurement.patient_id, func.max(Measurement.created_at))
        .where(
            Measurement.patient_id.in_(list(patient_ids)),
            Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
            Measurement.superseded_at.is_(None),
        )
        .group_by(Measurement.patient_id)
    ).all()
    return {pid: at for pid, at in rows}


def _active_plan(session: Session, patient_id: uuid.UUID) -> TreatmentPlan | None:
    return session.execute(
        select(TreatmentPlan)
        .where(TreatmentPlan.patient_id == patient_id, TreatmentPlan.status == PlanStatus.ACTIVE)
        .order_by(TreatmentPlan.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def record(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: PlanReviewCreate,
    kinds: KindBook,
    rules: ResponderBook,
    baseline: BaselineRule = BaselineRule.LAST_BEFORE_FIRST_SESSION,
) -> PlanReview:
    """Record "continue the active plan unchanged" for a patient judged a non-responder now."""
    actor.require(Permission.PLAN_WRITE)
    progress = patient_progress(
        session, actor, patient_id, kinds, rules, baseline, with_images=False
    )
    patient = progress.patient
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    plan = _active_plan(session, patient.id)
    if plan is None:
        raise InvalidTransition(
            "The patient has no active plan to continue: a paused, stopped or completed plan "
            "needs no review"
        )
    verdict = progress.responder
    if verdict.status is not ResponderStatus.NON_RESPONDER:
        raise InvalidInput(
            "The measured values do not meet the non-responder rule, so there is no review to "
            f"record ({verdict.finding.reason})",
            "decision",
        )
    newest = _newest_value_at(session, [patient.id]).get(patient.id)
    assert newest is not None  # a non-responder verdict rests on measured values
    review = PlanReview(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        plan_id=plan.id,
        decision=CONTINUE,
        reason=data.reason,
        rule_id=verdict.finding.rule_id,
        evidence_until=newest,
        reviewed_by=actor.username,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "plan_review",
        review.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"plan_id": str(plan.id), "decision": CONTINUE, "rule_id": review.rule_id},
    )
    return review


def list_for(session: Session, actor: Actor, patient_id: uuid.UUID) -> Sequence[PlanReview]:
    """The patient's plan reviews, newest first (audited)."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    return _read(session, actor, patient, None)


def latest(session: Session, actor: Actor, patient: Patient) -> PlanReview | None:
    """The newest plan review of a patient the caller has already loaded with its rights
    (the Progress tab), audited like the list."""
    found = _read(session, actor, patient, 1)
    return found[0] if found else None


def _read(
    session: Session, actor: Actor, patient: Patient, limit: int | None
) -> Sequence[PlanReview]:
    found = (
        session.execute(
            select(PlanReview)
            .where(PlanReview.patient_id == patient.id)
            .order_by(PlanReview.reviewed_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    audit.record(
        session,
        actor,
        "read",
        "plan_review",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"count": len(found)},
    )
    return found


def still_current(review: PlanReview | None, newest_value_at: datetime | None) -> bool:
    """Whether a review still answers the question: no value was recorded after it."""
    return review is not None and (
        newest_value_at is None or newest_value_at <= review.evidence_until
    )


def settled(session: Session, patient_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Of these patients, those whose active plan was reviewed after their newest value (the
    caller audits the list it shows)."""
    if not patient_ids:
        return set()
    latest: dict[uuid.UUID, PlanReview] = {}
    for review in session.execute(
        select(PlanReview)
        .join(TreatmentPlan, TreatmentPlan.id == PlanReview.plan_id)
        .where(
            PlanReview.patient_id.in_(list(patient_ids)),
            TreatmentPlan.status == PlanStatus.ACTIVE,
        )
        .order_by(PlanReview.reviewed_at)
    ).scalars():
        latest[review.patient_id] = review
    if not latest:
        return set()
    newest = _newest_value_at(session, latest)
    return {pid for pid, review in latest.items() if still_current(review, newest.get(pid))}
