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
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Integer, bindparam, select
from sqlalchemy.orm import Session, load_only

from mesoclinic.db import utcnow
from mesoclinic.errors import Forbidden
from mesoclinic.formulary.models import Cocktail
from mesoclinic.outcomes import plan_reviews
from mesoclinic.outcomes.evidence import build_kind_series
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import (
    Measurement,
    MeasurementSite,
    MeasurementSource,
    MeasurementStatus,
)
from mesoclinic.outcomes.progress import BaselineRule, SessionGiven
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


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_KINDS: BindParameter[Any] = bindparam("kinds", expanding=True)
_CURRENT = (
    Measurement.kind.in_(_KINDS),
    Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
    Measurement.superseded_at.is_(None),
)
_NEWEST_MEASURED = (
    select(Measurement.patient_id)
    .join(Patient, Patient.id == Measurement.patient_id)
    .where(
        Patient.clinic_id == bindparam("clinic_id"),
        Patient.status == "active",
        Patient.id.in_(
            select(TreatmentPlan.patient_id).where(
                TreatmentPlan.clinic_id == bindparam("clinic_id"),
                TreatmentPlan.status == PlanStatus.ACTIVE,
            )
        ),
        *_CURRENT,
    )
    .order_by(Measurement.measured_at.desc())
    .limit(bindparam("window", type_=Integer))
)
_NAMES = select(Patient.id, Patient.given_name, Patient.family_name).where(Patient.id.in_(_IDS))
_VALUES = (
    select(
        Measurement.patient_id,
        Measurement.id,
        Measurement.site_id,
        Measurement.kind,
        Measurement.measured_at,
        Measurement.value,
        Measurement.source,
        Measurement.unit,
    )
    .where(Measurement.patient_id.in_(_IDS), *_CURRENT)
    .order_by(Measurement.measured_at.desc())
)
_SITES = (
    select(MeasurementSite)
    .where(MeasurementSite.patient_id.in_(_IDS))
    .options(load_only(MeasurementSite.patient_id, MeasurementSite.label, MeasurementSite.status))
)
_SESSIONS = (
    select(Visit.patient_id, Visit.performed_at, Cocktail.name, Visit.prp_given)
    .join(Cocktail, Cocktail.id == Visit.cocktail_id)
    .where(Visit.patient_id.in_(_IDS), Visit.status == VisitStatus.COMPLETED)
    .order_by(Visit.performed_at)
)


class _Value(NamedTuple):
    """A current measured value: what the series read (`evidence.MeasuredValue`)."""

    id: uuid.UUID
    site_id: uuid.UUID | None
    kind: str
    measured_at: datetime
    value: float
    source: MeasurementSource
    unit: str


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
    # Newest measurements first through ix_measurements_measured_at, stopping after a bounded
    # window: the clinic's whole measurement history is never grouped per patient.
    newest_first = session.execute(
        _NEWEST_MEASURED,
        {"clinic_id": clinic_id, "kinds": kinds, "window": limit * WINDOW_PER_PATIENT},
    ).scalars()
    wanted = list(dict.fromkeys(newest_first))[:limit]
    if not wanted:
        return []
    # Plain rows of the columns the list shows and the judgement reads, by prebuilt statements:
    # this runs on every clinician's dashboard, and ORM objects (and building the statements)
    # cost most of its time in Python. Sites stay ORM objects: few, and the series keep them.
    # The rows go through the connection (Core), not the ORM's result machinery; the first
    # query above went through the session, so pending changes were flushed.
    conn = session.connection()
    names = {
        pid: f"{given} {family}" for pid, given, family in conn.execute(_NAMES, {"ids": wanted})
    }
    ids = list(names)
    values: dict[uuid.UUID, list[_Value]] = defaultdict(list)
    for row in conn.execute(_VALUES, {"ids": ids, "kinds": kinds}):
        values[row.patient_id].append(_Value._make(row[1:]))
    marked: dict[uuid.UUID, list[MeasurementSite]] = defaultdict(list)
    for s in session.execute(_SITES, {"ids": ids}).scalars():
        marked[s.patient_id].append(s)
    given: dict[uuid.UUID, list[SessionGiven]] = defaultdict(list)
    for pid, performed_at, cocktail, prp in conn.execute(_SESSIONS, {"ids": ids}):
        given[pid].append(SessionGiven(performed_at, cocktail, prp))
    moment = now or utcnow()
    found = []
    for pid, name in names.items():
        sessions = given[pid]
        series = build_kind_series(values[pid], marked[pid], sessions, book, baseline)
        measured = [MeasuredSeries(s.series, s.label, s.where) for s in series]
        first = sessions[0].performed_at if sessions else None
        judged = evaluate(rules, measured, len(sessions), first, moment)
        found.append(ToReview(pid, name, judged.status))
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
