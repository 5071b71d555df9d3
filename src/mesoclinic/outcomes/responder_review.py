"""Which of a clinic's patients on an active plan meet the non-responder rule, for the
clinicians' "review the plan" list.

Bounded on purpose: it runs on every dashboard view, so it judges only patients with an active
plan and values of the kinds the rulebook judges, the most recently measured `limit` of them,
reading their values, sites and sessions in three batched queries (not one progress read per
patient). The caller shows names; this records one audit entry listing the patients judged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload, load_only

from mesoclinic.db import utcnow
from mesoclinic.errors import Forbidden
from mesoclinic.formulary.models import Cocktail
from mesoclinic.outcomes import plan_reviews
from mesoclinic.outcomes.evidence import build_kind_series, sessions_of
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import Measurement, MeasurementSite, MeasurementStatus
from mesoclinic.outcomes.progress import BaselineRule
from mesoclinic.outcomes.responders import (
    MeasuredSeries,
    ResponderBook,
    ResponderStatus,
    evaluate,
)
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.visits.models import Visit, VisitStatus

LIMIT = 50  # patients judged per dashboard view, most recently measured first
# Measurements read to find them: a patient measured more often than this in the window
# leaves room for fewer others, which only shortens the (already bounded) list.
WINDOW_PER_PATIENT = 8


@dataclass(frozen=True)
class ToReview:
    patient_id: uuid.UUID
    name: str
    status: ResponderStatus


def non_responders(
    session: Session,
    actor: Actor,
    clinic_id: uuid.UUID,
    book: KindBook,
    rules: ResponderBook,
    baseline: BaselineRule = BaselineRule.LAST_BEFORE_FIRST_SESSION,
    now: datetime | None = None,
    limit: int = LIMIT,
) -> list[ToReview]:
    """The clinic's patients on an active plan whose measured values meet the non-responder
    rule, by name, less those whose plan a clinician reviewed ("continue unchanged") after
    their newest value."""
    judged = judge_clinic(session, actor, clinic_id, book, rules, baseline, now, limit)
    found = [r for r in judged if r.status is ResponderStatus.NON_RESPONDER]
    reviewed = plan_reviews.settled(session, [r.patient_id for r in found])
    return [r for r in found if r.patient_id not in reviewed]


def judge_clinic(
    session: Session,
    actor: Actor,
    clinic_id: uuid.UUID,
    book: KindBook,
    rules: ResponderBook,
    baseline: BaselineRule = BaselineRule.LAST_BEFORE_FIRST_SESSION,
    now: datetime | None = None,
    limit: int = LIMIT,
) -> list[ToReview]:
    """Responder status of the clinic's most recently measured patients on an active plan, by
    name (one audit entry lists them all)."""
    actor.require(Permission.OUTCOME_READ)
    if actor.role is Role.PATIENT or (
        actor.role is not Role.ADMIN and clinic_id != actor.clinic_id
    ):
        raise Forbidden("Only the clinic's staff see its review list")
    kinds = sorted({k for rule in rules.responder for k in rule.kinds})
    current = (
        Measurement.kind.in_(kinds),
        Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
        Measurement.superseded_at.is_(None),
    )
    on_plan = select(TreatmentPlan.patient_id).where(
        TreatmentPlan.clinic_id == clinic_id, TreatmentPlan.status == PlanStatus.ACTIVE
    )
    # Newest measurements first through ix_measurements_measured_at, stopping after a bounded
    # window: the clinic's whole measurement history is never grouped per patient.
    newest_first = session.execute(
        select(Measurement.patient_id)
        .join(Patient, Patient.id == Measurement.patient_id)
        .where(
            Patient.clinic_id == clinic_id,
            Patient.status == "active",
            Patient.id.in_(on_plan),
            *current,
        )
        .order_by(Measurement.measured_at.desc())
        .limit(limit * WINDOW_PER_PATIENT)
    ).scalars()
    wanted = list(dict.fromkeys(newest_first))[:limit]
    # Only the columns the list shows and the judgement reads: this runs on every dashboard
    # view, and whole visit and patient rows cost most of its time in Python.
    patients = {
        p.id: p
        for p in session.execute(
            select(Patient)
            .where(Patient.id.in_(wanted))
            .options(load_only(Patient.given_name, Patient.family_name))
        ).scalars()
    }
    if not patients:
        return []
    ids = list(patients)
    values: dict[uuid.UUID, list[Measurement]] = defaultdict(list)
    for m in session.execute(
        select(Measurement)
        .where(Measurement.patient_id.in_(ids), *current)
        .order_by(Measurement.measured_at.desc())
    ).scalars():
        values[m.patient_id].append(m)
    marked: dict[uuid.UUID, list[MeasurementSite]] = defaultdict(list)
    for s in session.execute(
        select(MeasurementSite).where(MeasurementSite.patient_id.in_(ids))
    ).scalars():
        marked[s.patient_id].append(s)
    visits: dict[uuid.UUID, list[Visit]] = defaultdict(list)
    for v in session.execute(
        select(Visit)
        .where(Visit.patient_id.in_(ids), Visit.status == VisitStatus.COMPLETED)
        .options(
            load_only(Visit.patient_id, Visit.performed_at, Visit.prp_given),
            joinedload(Visit.cocktail).load_only(Cocktail.name),
            lazyload(Visit.lots_used),
            lazyload(Visit.adverse_events),
        )
        .order_by(Visit.performed_at)
    ).scalars():
        visits[v.patient_id].append(v)
    moment = now or utcnow()
    found = []
    for pid, patient in patients.items():
        sessions = sessions_of(visits[pid])
        series = build_kind_series(values[pid], marked[pid], sessions, book, baseline)
        measured = [MeasuredSeries(s.series, s.label, s.where) for s in series]
        first = sessions[0].performed_at if sessions else None
        judged = evaluate(rules, measured, len(sessions), first, moment)
        found.append(ToReview(pid, f"{patient.given_name} {patient.family_name}", judged.status))
    audit.record(
        session,
        actor,
        "read",
        "responder_review",
        None,
        clinic_id=clinic_id,
        detail={
            "judged": [str(i) for i in ids],
            "non_responders": [
                str(r.patient_id) for r in found if r.status is ResponderStatus.NON_RESPONDER
            ],
        },
    )
    return sorted(found, key=lambda r: r.name)
