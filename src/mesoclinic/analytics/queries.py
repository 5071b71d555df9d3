"""The cohort's SQL: select its patients and aggregate their outcomes in the database.

Statements only (SQLAlchemy Core); `service.py` runs them. Each builder returns a statement
whose rows are aggregates (one per time point, group, lot ...) except `patient_vectors`, which
the comparisons read: one row per patient, with no identifying column.

Time differences are in days: `julianday` on SQLite, `EXTRACT(EPOCH ...)` on PostgreSQL.
Medians and quartiles: `percentile_cont` on PostgreSQL; on SQLite the rows at the two ordered
positions around each quantile, found with `row_number()`/`count()` windows (interpolated the
way `percentile_cont` does, in `summaries.quantile_from_positions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from mesoclinic.analytics.cohorts import TIME_POINTS, CohortFilter, Scope, birth_date_bounds
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import RecordStatus
from mesoclinic.formulary.models import Cocktail, Lot, Product
from mesoclinic.outcomes.models import Measurement, MeasurementStatus
from mesoclinic.outcomes.responders import ResponderRule
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.security.models import User
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot, VisitStatus

QUANTILES = (0.25, 0.5, 0.75)
GROUPINGS = {
    "cocktail": ("cocktail",),
    "protocol": ("protocol",),
    "stage": ("diagnosis", "scale", "grade"),
}


def days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    """`later - earlier` in (fractional) days, in the database's own arithmetic."""
    if dialect == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    seconds = func.extract("epoch", later - earlier)
    days: ColumnElement[float] = seconds / 86400.0  # type: ignore[assignment]
    return days


def _first_sessions() -> Any:
    """Each patient's sessions numbered in order (1 = the first), with the cocktail used."""
    order = func.row_number().over(partition_by=Visit.patient_id, order_by=Visit.performed_at)
    return (
        select(
            Visit.patient_id,
            Visit.performed_at,
            Cocktail.name.label("cocktail"),
            order.label("rn"),
        )
        .join(Cocktail, Cocktail.id == Visit.cocktail_id)
        .where(Visit.status == VisitStatus.COMPLETED)
        .subquery("sessions_in_order")
    )


def _latest_assessments() -> Any:
    order = func.row_number().over(
        partition_by=Assessment.patient_id, order_by=Assessment.assessed_at.desc()
    )
    return (
        select(
            Assessment.patient_id,
            Assessment.diagnosis,
            Assessment.staging_scale,
            Assessment.staging_grade,
            order.label("rn"),
        )
        .where(Assessment.status == RecordStatus.ACTIVE)
        .subquery("latest_assessment")
    )


def _latest_plans() -> Any:
    order = func.row_number().over(
        partition_by=TreatmentPlan.patient_id, order_by=TreatmentPlan.created_at.desc()
    )
    return select(
        TreatmentPlan.patient_id, TreatmentPlan.protocol_code, order.label("rn")
    ).subquery("latest_plan")


def cohort(filt: CohortFilter, scope: Scope, today: date, name: str = "cohort") -> CTE:
    """The cohort's patients: treated (at least one session), active records, in scope.

    Columns: patient_id, t0 (first session), sex, birth_date, diagnosis, scale, grade,
    cocktail (of the first session), protocol (of the latest plan), dropped (a plan stopped).
    """
    first = _first_sessions()
    latest = _latest_assessments()
    plan = _latest_plans()
    dropped = exists().where(
        TreatmentPlan.patient_id == Patient.id, TreatmentPlan.status == PlanStatus.STOPPED
    )
    query = (
        select(
            Patient.id.label("patient_id"),
            first.c.performed_at.label("t0"),
            Patient.sex,
            Patient.birth_date,
            latest.c.diagnosis,
            latest.c.staging_scale.label("scale"),
            latest.c.staging_grade.label("grade"),
            first.c.cocktail,
            plan.c.protocol_code.label("protocol"),
            case((dropped, 1), else_=0).label("dropped"),
        )
        .join(first, and_(first.c.patient_id == Patient.id, first.c.rn == 1))
        .outerjoin(latest, and_(latest.c.patient_id == Patient.id, latest.c.rn == 1))
        .outerjoin(plan, and_(plan.c.patient_id == Patient.id, plan.c.rn == 1))
        .where(Patient.status == RecordStatus.ACTIVE)
    )
    for condition in _conditions(filt, scope, today, first, latest):
        query = query.where(condition)
    return query.cte(name)


def _conditions(
    filt: CohortFilter, scope: Scope, today: date, first: Any, latest: Any
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.clinics is not None:
        conditions.append(Patient.clinic_id.in_(scope.clinics))
    if filt.sex:
        conditions.append(Patient.sex == filt.sex)
    if filt.age_band:
        conditions.append(or_(*(_born_in(band, today) for band in filt.age_band)))
    if filt.diagnosis:
        conditions.append(latest.c.diagnosis.in_(filt.diagnosis))
    if filt.stage:
        stages = [s.split(":", 1) for s in filt.stage]
        conditions.append(
            or_(
                *(
                    and_(latest.c.staging_scale == scale, latest.c.staging_grade == grade)
                    for scale, grade in stages
                )
            )
        )
    if filt.protocol:
        conditions.append(
            exists().where(
                TreatmentPlan.patient_id == Patient.id,
                TreatmentPlan.protocol_code.in_(filt.protocol),
            )
        )
    if filt.cocktail:
        conditions.append(
            exists()
            .where(Visit.patient_id == Patient.id, Visit.status == VisitStatus.COMPLETED)
            .where(Visit.cocktail_id == Cocktail.id, Cocktail.name.in_(filt.cocktail))
        )
    if filt.prp is not None:
        had_prp = exists().where(
            Visit.patient_id == Patient.id,
            Visit.status == VisitStatus.COMPLETED,
            Visit.prp_given.is_(true()),
        )
        conditions.append(had_prp if filt.prp else ~had_prp)
    if filt.started_from:
        conditions.append(first.c.performed_at >= _midnight(filt.started_from))
    if filt.started_to:
        conditions.append(first.c.performed_at < _midnight(filt.started_to + timedelta(days=1)))
    return conditions


def _born_in(band: str, today: date) -> ColumnElement[bool]:
    earliest, latest = birth_date_bounds(band, today)
    born = Patient.birth_date <= latest
    return born if earliest is None else and_(born, Patient.birth_date > earliest)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    """The measure summarised and the responder rule that applies to it (None: no rule)."""

    kind: str
    rule: ResponderRule | None


def nearest_values(members: CTE, kind: str, dialect: str, name: str = "nearest") -> CTE:
    """Per patient, site and time point, the measurement nearest the target day in the window.

    Columns: patient_id, site_id, tp, value. Corrected values replace what they correct
    (superseded rows are left out) and values entered in error are never read.
    """
    day = days_between(Measurement.measured_at, members.c.t0, dialect)
    tp = case(
        *(
            (day.between(p.target_day - p.window_before, p.target_day + p.window_after), p.key)
            for p in TIME_POINTS
        ),
        else_=None,
    )
    target = case(
        *(
            (
                day.between(p.target_day - p.window_before, p.target_day + p.window_after),
                p.target_day,
            )
            for p in TIME_POINTS
        ),
        else_=0,
    )
    tagged = (
        select(
            members.c.patient_id,
            Measurement.site_id,
            Measurement.value,
            tp.label("tp"),
            func.abs(day - target).label("distance"),
        )
        .join(Measurement, Measurement.patient_id == members.c.patient_id)
        .where(
            Measurement.kind == kind,
            Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
            Measurement.superseded_at.is_(None),
        )
        .subquery("tagged")
    )
    order = func.row_number().over(
        partition_by=(tagged.c.patient_id, tagged.c.site_id, tagged.c.tp),
        order_by=tagged.c.distance,
    )
    ranked = (
        select(
            tagged.c.patient_id, tagged.c.site_id, tagged.c.tp, tagged.c.value, order.label("rn")
        )
        .where(tagged.c.tp.is_not(None))
        .subquery("ranked")
    )
    return (
        select(ranked.c.patient_id, ranked.c.site_id, ranked.c.tp, ranked.c.value)
        .where(ranked.c.rn == 1)
        .cte(name)
    )


def patient_changes(nearest: CTE, outcome: Outcome, name: str = "changes") -> CTE:
    """Per patient and follow-up time point: baseline, value and change from baseline (the mean
    over the sites measured at both), and whether the responder rule is met at any site.

    Columns: patient_id, tp, baseline, value, change, responder (1/0, or NULL with no rule).
    """
    base = nearest.alias("base")
    follow = nearest.alias("follow")
    change = follow.c.value - base.c.value
    responder = _responder(outcome.rule, follow.c.tp, base.c.value, change)
    per_site = (
        select(
            follow.c.patient_id,
            follow.c.tp,
            base.c.value.label("baseline"),
            follow.c.value,
            change.label("change"),
            responder.label("met"),
        )
        .join(
            base,
            and_(
                base.c.patient_id == follow.c.patient_id,
                base.c.site_id.is_not_distinct_from(follow.c.site_id),
                base.c.tp == "baseline",
            ),
        )
        .where(follow.c.tp != "baseline")
        .subquery("per_site")
    )
    return (
        select(
            per_site.c.patient_id,
            per_site.c.tp,
            func.avg(per_site.c.baseline).label("baseline"),
            func.avg(per_site.c.value).label("value"),
            func.avg(per_site.c.change).label("change"),
            func.max(per_site.c.met).label("responder"),
        )
        .group_by(per_site.c.patient_id, per_site.c.tp)
        .cte(name)
    )


def _responder(
    rule: ResponderRule | None, tp: Any, baseline: Any, change: Any
) -> ColumnElement[Any]:
    """1 when the clinic's responder rule for this kind is met at this site, else 0; NULL when
    no rule judges the kind. Before the rule's "not before N months" a follow-up never counts."""
    if rule is None:
        return literal(None, Integer)
    sign = 1.0 if rule.direction == "up" else -1.0
    judged = [
        p.key for p in TIME_POINTS if p.key != "baseline" and p.months >= rule.not_before_months
    ]
    if not judged:
        return literal(0)
    # Percent change rounded like the rulebook does (exactly 10 % meets a 10 % threshold).
    percent = sign * change * 100.0 / baseline
    met = and_(tp.in_(judged), baseline > 0, percent >= rule.threshold_percent - 1e-6)
    return case((met, 1), else_=0)


def _group_columns(members: CTE, group: str | None) -> list[Any]:
    return [members.c[name] for name in GROUPINGS[group]] if group else []


def moments(members: CTE, changes: CTE, group: str | None = None) -> Select[Any]:
    """Per time point (and group): n, sum and sum of squares of the change, responders."""
    keys = _group_columns(members, group)
    return (
        select(
            changes.c.tp,
            *keys,
            func.count().label("n"),
            func.sum(changes.c.change).label("total"),
            func.sum(changes.c.change * changes.c.change).label("total_sq"),
            func.sum(changes.c.responder).label("responders"),
            func.count(changes.c.responder).label("judged"),
            func.sum(changes.c.baseline).label("baseline_total"),
        )
        .join(members, members.c.patient_id == changes.c.patient_id)
        .group_by(changes.c.tp, *keys)
    )


def _time_point_rows() -> Any:
    rows = [
        select(literal(p.key).label("tp"), literal(p.target_day + p.window_after).label("due_day"))
        for p in TIME_POINTS
    ]
    return union_all(*rows).subquery("time_points")


def follow_up_status(
    members: CTE, nearest: CTE, now: datetime, dialect: str, group: str | None = None
) -> Select[Any]:
    """Per time point (and group), how many patients were measured in the window, dropped out
    (a plan stopped) without a value, are not yet due, or were due and have no value."""
    points = _time_point_rows()
    keys = _group_columns(members, group)
    measured = select(nearest.c.patient_id, nearest.c.tp).distinct().subquery("measured")
    elapsed = days_between(literal(now, Measurement.measured_at.type), members.c.t0, dialect)
    status = case(
        (measured.c.patient_id.is_not(None), "measured"),
        (members.c.dropped == 1, "dropped_out"),
        (elapsed < points.c.due_day, "not_yet_due"),
        else_="no_value",
    )
    rows = (
        select(points.c.tp, *keys, status.label("status"))
        .select_from(points)
        .join(members, true())
        .outerjoin(
            measured,
            and_(measured.c.patient_id == members.c.patient_id, measured.c.tp == points.c.tp),
        )
        .subquery("follow_up")
    )
    group_keys = [rows.c[c.name] for c in keys]
    return select(rows.c.tp, *group_keys, rows.c.status, func.count().label("patients")).group_by(
        rows.c.tp, *group_keys, rows.c.status
    )


def quantiles(members: CTE, changes: CTE, dialect: str, group: str | None = None) -> Select[Any]:
    """The quartiles of the change per time point (and group).

    PostgreSQL: one row per group with q1, median, q3 (`percentile_cont`). SQLite: the rows at
    the ordered positions around each quantile, with their position (0-based) and the count.
    """
    keys = _group_columns(members, group)
    joined = select(changes.c.tp, *keys, changes.c.change).join(
        members, members.c.patient_id == changes.c.patient_id
    )
    if dialect != "sqlite":
        rows = joined.subquery("changes_for_quantiles")
        group_keys = [rows.c[c.name] for c in keys]
        cuts = [
            func.percentile_cont(q).within_group(rows.c.change).label(f"q{int(q * 100)}")
            for q in QUANTILES
        ]
        return select(rows.c.tp, *group_keys, *cuts).group_by(rows.c.tp, *group_keys)
    partition = [changes.c.tp, *keys]
    ordered = joined.add_columns(
        (func.row_number().over(partition_by=partition, order_by=changes.c.change) - 1).label(
            "position"
        ),
        func.count().over(partition_by=partition).label("n"),
    ).subquery("ordered")
    wanted = []
    for q in QUANTILES:
        low = cast(q * (ordered.c.n - 1), Integer)  # positive, so the cast floors
        wanted.extend([ordered.c.position == low, ordered.c.position == low + 1])
    group_keys = [ordered.c[c.name] for c in keys]
    return select(
        ordered.c.tp, *group_keys, ordered.c.position, ordered.c.n, ordered.c.change
    ).where(or_(*wanted))


def patient_vectors(members: CTE, changes: CTE) -> Select[Any]:
    """One row per patient and follow-up time point for the comparisons: baseline, value,
    change and the covariates (sex, birth date, first session, stage). No identifier."""
    return select(
        changes.c.tp,
        changes.c.baseline,
        changes.c.value,
        changes.c.change,
        members.c.sex,
        members.c.birth_date,
        members.c.t0,
        members.c.scale,
        members.c.grade,
        # A stand-in for the patient, only to tie one patient's time points together in the
        # mixed model: a dense rank, meaningless outside this result.
        func.dense_rank().over(order_by=members.c.patient_id).label("subject"),
    ).join(members, members.c.patient_id == changes.c.patient_id)


def overlap(first: CTE, second: CTE) -> Select[Any]:
    """How many patients two cohorts share."""
    return (
        select(func.count())
        .select_from(first)
        .join(second, second.c.patient_id == first.c.patient_id)
    )


def cohort_size(members: CTE) -> Select[Any]:
    return select(func.count()).select_from(members)


def _adverse_visits() -> Any:
    return (
        select(AdverseEvent.visit_id)
        .where(AdverseEvent.type != "none")
        .distinct()
        .subquery("adverse_visits")
    )


def lot_rates(members: CTE) -> Any:
    """Per product and lot: sessions that drew on the lot, patients, sessions with an adverse
    event (any type other than "none")."""
    adverse = _adverse_visits()
    return (
        select(
            Product.name.label("product"),
            Lot.batch_number.label("lot"),
            Lot.recalled_at.is_not(None).label("recalled"),
            func.count(distinct(Visit.id)).label("exposures"),
            func.count(distinct(Visit.patient_id)).label("patients"),
            func.count(distinct(case((adverse.c.visit_id.is_not(None), Visit.id)))).label("events"),
        )
        .select_from(VisitLot)
        .join(Visit, Visit.id == VisitLot.visit_id)
        .join(members, members.c.patient_id == Visit.patient_id)
        .join(Lot, Lot.id == VisitLot.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .outerjoin(adverse, adverse.c.visit_id == Visit.id)
        .where(Visit.status == VisitStatus.COMPLETED)
        .group_by(Product.name, Lot.batch_number, Lot.recalled_at)
        .order_by(Product.name, Lot.batch_number)
    )


def session_rates(members: CTE, by: str) -> Select[Any]:
    """Per technique, clinician or cocktail: sessions, patients, sessions with an adverse event."""
    adverse = _adverse_visits()
    column: Any = {
        "technique": Visit.technique,
        "clinician": func.coalesce(func.nullif(User.display_name, ""), User.username),
        "cocktail": Cocktail.name,
        "product": Product.name,
    }[by]
    query = (
        select(
            column.label("name"),
            func.count(distinct(Visit.id)).label("exposures"),
            func.count(distinct(Visit.patient_id)).label("patients"),
            func.count(distinct(case((adverse.c.visit_id.is_not(None), Visit.id)))).label("events"),
        )
        .select_from(Visit)
        .join(members, members.c.patient_id == Visit.patient_id)
        .outerjoin(adverse, adverse.c.visit_id == Visit.id)
        .where(Visit.status == VisitStatus.COMPLETED)
    )
    if by == "clinician":
        query = query.join(User, User.id == Visit.practitioner_id)
    if by == "cocktail":
        query = query.join(Cocktail, Cocktail.id == Visit.cocktail_id)
    if by == "product":
        query = (
            query.join(VisitLot, VisitLot.visit_id == Visit.id)
            .join(Lot, Lot.id == VisitLot.lot_id)
            .join(Product, Product.id == Lot.product_id)
        )
    return query.group_by(column).order_by(column)


def choices() -> dict[str, Any]:
    """What the builder offers: recorded protocols, cocktails and stages (values, no patients)."""
    return {
        "protocol": select(TreatmentPlan.protocol_code)
        .distinct()
        .order_by(TreatmentPlan.protocol_code),
        "cocktail": select(Cocktail.name).order_by(Cocktail.name),
        "stage": select(Assessment.staging_scale, Assessment.staging_grade)
        .where(Assessment.staging_scale.is_not(None), Assessment.staging_grade.is_not(None))
        .distinct()
        .order_by(Assessment.staging_scale, Assessment.staging_grade),
    }
