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
    ColumnElement,
    Date,
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
from sqlalchemy.dialects.postgresql import distinct_on

from mesoclinic.analytics.cohorts import (
    FOLLOW_UPS,
    TIME_POINTS,
    CohortFilter,
    Scope,
    birth_date_bounds,
)
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


def _one_per_patient(
    query: Any, patient: Any, order: Any, latest: bool, dialect: str, name: str
) -> Any:
    """One row of `query` per patient: the one with the earliest (or latest) `order`.

    PostgreSQL: `DISTINCT ON`; SQLite: `min()`/`max()` with bare columns, which SQLite takes
    from the row holding the minimum or maximum. Both keep the planner's row estimate at one
    row per patient; a `row_number() = 1` filter was estimated at 0.5 % of that, and the
    nested loops PostgreSQL chose on that estimate took seconds per thousand patients.
    """
    if dialect == "sqlite":
        pick = func.max(order) if latest else func.min(order)
        return query.add_columns(pick.label("picked")).group_by(patient).subquery(name)
    ordered = query.ext(distinct_on(patient)).order_by(patient, order.desc() if latest else order)
    return ordered.subquery(name)


def _first_sessions(dialect: str) -> Any:
    """Each patient's first session (time and cocktail)."""
    query = (
        select(Visit.patient_id, Visit.performed_at, Cocktail.name.label("cocktail"))
        .join(Cocktail, Cocktail.id == Visit.cocktail_id)
        .where(Visit.status == VisitStatus.COMPLETED)
    )
    return _one_per_patient(
        query, Visit.patient_id, Visit.performed_at, False, dialect, "first_session"
    )


def _latest_assessments(dialect: str) -> Any:
    query = select(
        Assessment.patient_id,
        Assessment.diagnosis,
        Assessment.staging_scale,
        Assessment.staging_grade,
    ).where(Assessment.status == RecordStatus.ACTIVE)
    return _one_per_patient(
        query, Assessment.patient_id, Assessment.assessed_at, True, dialect, "latest_assessment"
    )


def _latest_plans(dialect: str) -> Any:
    query = select(TreatmentPlan.patient_id, TreatmentPlan.protocol_code)
    return _one_per_patient(
        query, TreatmentPlan.patient_id, TreatmentPlan.created_at, True, dialect, "latest_plan"
    )


def cohort(filt: CohortFilter, scope: Scope, today: date, dialect: str) -> Select[Any]:
    """The cohort's patients: treated (at least one session), active records, in scope.

    Columns: patient_id, t0 (first session), sex, birth_date, diagnosis, scale, grade,
    cocktail (of the first session), protocol (of the latest plan), dropped (a plan stopped).
    """
    first = _first_sessions(dialect)
    latest = _latest_assessments(dialect)
    plan = _latest_plans(dialect)
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
        .join(first, first.c.patient_id == Patient.id)
        .outerjoin(latest, latest.c.patient_id == Patient.id)
        .outerjoin(plan, plan.c.patient_id == Patient.id)
        .where(Patient.status == RecordStatus.ACTIVE)
    )
    for condition in _conditions(filt, scope, today, first, latest):
        query = query.where(condition)
    return query


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


def outcome_rows(members: Any, outcome: Outcome, dialect: str) -> Select[Any]:
    """Per patient and time point measured: the nearest value's change from baseline.

    `members` is the materialised cohort (a table with patient_id and t0). One pass over the
    cohort's measurements of the kind: each is tagged with its time point (a `CASE` over the
    windows on the day difference), the one nearest the target day is kept per patient, site
    and time point (`DISTINCT ON` on PostgreSQL; SQLite's `min()` with bare columns, which
    takes them from the row holding the minimum), the site's baseline is put beside each of
    its follow-ups by a window (no self-join), and the sites are averaged per patient.

    Columns: patient_id, tp, baseline, value, change, responder. A row exists for every time
    point with a value at any site (that is "measured"); baseline, value and change are NULL
    for the baseline row and for a follow-up with no baseline at the same site; responder is
    1/0, or NULL with no rule (or no change).
    """
    day = days_between(Measurement.measured_at, members.c.t0, dialect)
    # The day difference is computed once per measurement, below the fence, and the windows
    # are tested on that column (repeating the date arithmetic per window cost as much again).
    timed = (
        select(
            members.c.patient_id,
            Measurement.site_id,
            Measurement.value,
            day.label("day"),
        )
        .select_from(members)
        .join(
            Measurement,
            and_(Measurement.patient_id == members.c.patient_id, Measurement.kind == outcome.kind),
        )
        .where(
            Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
            Measurement.superseded_at.is_(None),
        )
        .cte("timed")
        .prefix_with("MATERIALIZED")
    )
    windows = [
        (timed.c.day.between(p.target_day - p.window_before, p.target_day + p.window_after), p)
        for p in TIME_POINTS
    ]
    tp = case(*((inside, p.key) for inside, p in windows), else_=None)
    distance = case(*((inside, func.abs(timed.c.day - p.target_day)) for inside, p in windows))
    tagged = (
        select(timed.c.patient_id, timed.c.site_id, timed.c.value, tp.label("tp"))
        .add_columns(distance.label("distance"))
        .subquery("tagged")
    )
    keys = (tagged.c.patient_id, tagged.c.site_id, tagged.c.tp)
    if dialect == "sqlite":
        nearest = (
            select(*keys, tagged.c.value, func.min(tagged.c.distance).label("distance"))
            .where(tagged.c.tp.is_not(None))
            .group_by(*keys)
            .subquery("nearest")
        )
    else:
        nearest = (
            select(*keys, tagged.c.value)
            .where(tagged.c.tp.is_not(None))
            .ext(distinct_on(*keys))
            .order_by(*keys, tagged.c.distance)
            .subquery("nearest")
        )
    site_baseline = func.max(case((nearest.c.tp == "baseline", nearest.c.value))).over(
        partition_by=(nearest.c.patient_id, nearest.c.site_id)
    )
    sites = select(
        nearest.c.patient_id,
        nearest.c.tp,
        nearest.c.value,
        site_baseline.label("base"),
    ).subquery("sites")
    paired = and_(sites.c.tp != "baseline", sites.c.base.is_not(None))
    change = sites.c.value - sites.c.base
    met = _responder(outcome.rule, sites.c.tp, sites.c.base, change)
    return select(
        sites.c.patient_id,
        sites.c.tp,
        func.avg(case((paired, sites.c.base))).label("baseline"),
        func.avg(case((paired, sites.c.value))).label("value"),
        func.avg(case((paired, change))).label("change"),
        func.max(case((paired, met))).label("responder"),
    ).group_by(sites.c.patient_id, sites.c.tp)


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


def _group_columns(members: Any, group: str | None) -> list[Any]:
    return [members.c[name] for name in GROUPINGS[group]] if group else []


def moments(members: Any, changes: Any, group: str | None = None) -> Select[Any]:
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
        .where(changes.c.change.is_not(None))
        .group_by(changes.c.tp, *keys)
    )


def _time_point_rows() -> Any:
    rows = [
        select(literal(p.key).label("tp"), literal(p.target_day + p.window_after).label("due_day"))
        for p in TIME_POINTS
    ]
    return union_all(*rows).subquery("time_points")


def follow_up_status(
    members: Any, changes: Any, now: datetime, dialect: str, group: str | None = None
) -> Select[Any]:
    """Per time point (and group), how many patients were measured in the window, dropped out
    (a plan stopped) without a value, are not yet due, or were due and have no value."""
    points = _time_point_rows()
    keys = _group_columns(members, group)
    elapsed = days_between(literal(now, Measurement.measured_at.type), members.c.t0, dialect)
    status = case(
        (changes.c.patient_id.is_not(None), "measured"),
        (members.c.dropped == 1, "dropped_out"),
        (elapsed < points.c.due_day, "not_yet_due"),
        else_="no_value",
    )
    rows = (
        select(points.c.tp, *keys, status.label("status"))
        .select_from(points)
        .join(members, true())
        .outerjoin(
            changes,
            and_(changes.c.patient_id == members.c.patient_id, changes.c.tp == points.c.tp),
        )
        .subquery("follow_up")
    )
    group_keys = [rows.c[c.name] for c in keys]
    return select(rows.c.tp, *group_keys, rows.c.status, func.count().label("patients")).group_by(
        rows.c.tp, *group_keys, rows.c.status
    )


def quantiles(members: Any, changes: Any, dialect: str, group: str | None = None) -> Select[Any]:
    """The quartiles of the change per time point (and group).

    PostgreSQL: one row per group with q1, median, q3 (`percentile_cont`). SQLite: the rows at
    the ordered positions around each quantile, with their position (0-based) and the count.
    """
    keys = _group_columns(members, group)
    joined = (
        select(changes.c.tp, *keys, changes.c.change)
        .join(members, members.c.patient_id == changes.c.patient_id)
        .where(changes.c.change.is_not(None))
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


def comparison_sums(changes: Any, tp: str) -> Select[Any]:
    """One cohort's totals at a time point for the Welch and ANCOVA comparisons: patients,
    sums of baseline, follow-up and change, their squares and baseline x follow-up."""
    x, y, c = changes.c.baseline, changes.c.value, changes.c.change
    return select(
        func.count().label("n"),
        func.sum(x).label("x"),
        func.sum(y).label("y"),
        func.sum(c).label("c"),
        func.sum(x * x).label("xx"),
        func.sum(y * y).label("yy"),
        func.sum(c * c).label("cc"),
        func.sum(x * y).label("xy"),
    ).where(changes.c.tp == tp, c.is_not(None))


def mixed_patterns(changes: Any, months: float) -> Select[Any]:
    """One cohort's patients for the mixed model, grouped by their times of measurement.

    Per patient: the baseline at month 0 and every follow-up up to `months` (a patient with
    a change at any follow-up takes part). Per pattern (count of rows n, sum of months m and
    of months squared): the patients, and the totals over them of y = sum of values, my = sum
    of months x value, their squares and product, and yy = sum of values squared. Month sums
    are whole numbers, so patients with the same times fall in the same pattern exactly.
    """
    month = case(*((changes.c.tp == p.key, p.months) for p in FOLLOW_UPS), else_=None)
    inside = month <= months
    value = case((inside, changes.c.value), else_=0.0)
    base = func.avg(changes.c.baseline)
    per_patient = (
        select(
            (1 + func.count(case((inside, 1)))).label("n"),
            func.coalesce(func.sum(case((inside, month))), 0).label("m"),
            func.coalesce(func.sum(case((inside, month * month))), 0).label("mm"),
            (base + func.sum(value)).label("y"),
            func.sum(month * value).label("my"),
            (base * base + func.sum(value * value)).label("yy"),
        )
        .where(changes.c.change.is_not(None))
        .group_by(changes.c.patient_id)
        .subquery("per_patient")
    )
    p = per_patient.c
    return select(
        p.n,
        p.m,
        p.mm,
        func.count().label("patients"),
        func.sum(p.y).label("y"),
        func.sum(p.my).label("my"),
        func.sum(p.y * p.y).label("y_y"),
        func.sum(p.y * p.my).label("y_my"),
        func.sum(p.my * p.my).label("my_my"),
        func.sum(p.yy).label("yy"),
    ).group_by(p.n, p.m, p.mm)


def propensity_rows(members: Any, changes: Any, tp: str, dialect: str) -> Select[Any]:
    """One row per patient measured at the time point: change and the covariates (age in
    days at the first session, sex, stage). No identifier."""
    if dialect == "sqlite":
        age: Any = func.julianday(func.date(members.c.t0)) - func.julianday(members.c.birth_date)
    else:
        age = cast(func.timezone("UTC", members.c.t0), Date) - members.c.birth_date
    return (
        select(
            changes.c.change,
            age.label("age_days"),
            members.c.sex,
            members.c.scale,
            members.c.grade,
        )
        .join(members, members.c.patient_id == changes.c.patient_id)
        .where(changes.c.tp == tp, changes.c.change.is_not(None))
    )


def overlap(first: Any, second: Any) -> Select[Any]:
    """How many patients two cohorts share."""
    return (
        select(func.count())
        .select_from(first)
        .join(second, second.c.patient_id == first.c.patient_id)
    )


def cohort_size(members: Any) -> Select[Any]:
    return select(func.count()).select_from(members)


def _adverse_visits() -> Any:
    return (
        select(AdverseEvent.visit_id)
        .where(AdverseEvent.type != "none")
        .distinct()
        .subquery("adverse_visits")
    )


def lot_rates(members: Any) -> Any:
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


def session_rates(members: Any, by: str) -> Select[Any]:
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
