"""The cohort's SQL: select its patients and aggregate their outcomes in the database.

Statements only (SQLAlchemy Core); `service.py` runs them. Each builder returns a statement
whose rows are aggregates (one per time point or group). The comparisons' statements are in
`comparison_queries.py`, the adverse-event rates in `safety_queries.py`.

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
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from mesoclinic.analytics.cohorts import (
    TIME_POINTS,
    CohortFilter,
    Scope,
    TimePoint,
    birth_date_bounds,
)
from mesoclinic.analytics.models import ANALYTICS_OUTCOMES, ANALYTICS_PATIENTS
from mesoclinic.analytics.rows import (
    first_sessions,
    latest_assessments,
    latest_plans,
)
from mesoclinic.analytics.rows import outcome_rows as measured_rows
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import RecordStatus, UTCDateTime
from mesoclinic.formulary.models import Cocktail
from mesoclinic.outcomes.responders import ResponderRule
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.visits.models import Visit, VisitStatus

QUANTILES = (0.25, 0.5, 0.75)
GROUPINGS = {
    "cocktail": ("cocktail",),
    "protocol": ("protocol",),
    "stage": ("diagnosis", "scale", "grade"),
}


def cohort(filt: CohortFilter, scope: Scope, today: date, dialect: str) -> Select[Any]:
    """The cohort's patients derived from the clinical tables (the per-request path, used when
    the derived rows are not ready: see `analytics.rows`): treated (at least one session),
    active records, in scope.

    Columns: patient_id, t0 (first session), sex, birth_date, diagnosis, scale, grade,
    cocktail (of the first session), protocol (of the latest plan), dropped (a plan stopped).
    """
    first = first_sessions(dialect)
    latest = latest_assessments(dialect)
    plan = latest_plans(dialect)
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
    had_prp = exists().where(
        Visit.patient_id == Patient.id,
        Visit.status == VisitStatus.COMPLETED,
        Visit.prp_given.is_(true()),
    )
    columns = Columns(
        Patient.id,
        Patient.clinic_id,
        Patient.sex,
        Patient.birth_date,
        latest.c.diagnosis,
        latest.c.staging_scale,
        latest.c.staging_grade,
        first.c.performed_at,
        had_prp,
    )
    for condition in _conditions(filt, scope, today, columns):
        query = query.where(condition)
    return query


def derived_cohort(filt: CohortFilter, scope: Scope, today: date) -> Select[Any]:
    """The cohort's patients from the derived rows (`analytics_patients`): an indexed filter
    over one row per treated patient. Same columns as `cohort`."""
    p = ANALYTICS_PATIENTS.c
    query = select(
        p.patient_id,
        p.t0,
        p.sex,
        p.birth_date,
        p.diagnosis,
        p.scale,
        p.grade,
        Cocktail.name.label("cocktail"),
        p.protocol,
        p.dropped,
        # A left join to the key: PostgreSQL drops it from every read that does not group by
        # the cocktail (the column is never NULL, so it finds the same row an inner join does).
    ).outerjoin(Cocktail, Cocktail.id == p.cocktail_id)
    columns = Columns(
        p.patient_id, p.clinic_id, p.sex, p.birth_date, p.diagnosis, p.scale, p.grade, p.t0,
        p.prp.is_(true()),
    )  # fmt: skip
    for condition in _conditions(filt, scope, today, columns):
        query = query.where(condition)
    return query


@dataclass(frozen=True)
class Columns:
    """Where a cohort's filter finds each patient's facts (clinical tables or derived rows)."""

    patient_id: Any
    clinic_id: Any
    sex: Any
    birth_date: Any
    diagnosis: Any
    scale: Any
    grade: Any
    t0: Any
    had_prp: Any


def _conditions(
    filt: CohortFilter, scope: Scope, today: date, c: Columns
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.clinics is not None:
        conditions.append(c.clinic_id.in_(scope.clinics))
    if filt.sex:
        conditions.append(c.sex == filt.sex)
    if filt.age_band:
        conditions.append(or_(*(_born_in(c.birth_date, band, today) for band in filt.age_band)))
    if filt.diagnosis:
        conditions.append(c.diagnosis.in_(filt.diagnosis))
    if filt.stage:
        stages = [s.split(":", 1) for s in filt.stage]
        conditions.append(
            or_(*(and_(c.scale == scale, c.grade == grade) for scale, grade in stages))
        )
    if filt.protocol:
        conditions.append(
            exists().where(
                TreatmentPlan.patient_id == c.patient_id,
                TreatmentPlan.protocol_code.in_(filt.protocol),
            )
        )
    if filt.cocktail:
        conditions.append(
            exists()
            .where(Visit.patient_id == c.patient_id, Visit.status == VisitStatus.COMPLETED)
            .where(Visit.cocktail_id == Cocktail.id, Cocktail.name.in_(filt.cocktail))
            .correlate_except(Visit, Cocktail)
        )
    if filt.prp is not None:
        conditions.append(c.had_prp if filt.prp else ~c.had_prp)
    if filt.started_from:
        conditions.append(c.t0 >= _midnight(filt.started_from))
    if filt.started_to:
        conditions.append(c.t0 < _midnight(filt.started_to + timedelta(days=1)))
    return conditions


def _born_in(birth_date: Any, band: str, today: date) -> ColumnElement[bool]:
    earliest, latest = birth_date_bounds(band, today)
    born = birth_date <= latest
    return born if earliest is None else and_(born, birth_date > earliest)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    """The measure summarised and the responder rule that applies to it (None: no rule)."""

    kind: str
    rule: ResponderRule | None


def outcome_rows(members: Any, outcome: Outcome, dialect: str) -> Select[Any]:
    """Per member and time point measured, derived from the measurements (the per-request
    path: `rows.outcome_rows` for one kind), with the responder rule applied.

    Columns: patient_id, tp, baseline, value, change, responder. A row exists for every time
    point with a value at any site (that is "measured"); baseline, value and change are NULL
    for the baseline row and for a follow-up with no baseline at the same site; responder is
    1/0, or NULL with no rule (or no change).
    """
    derived = measured_rows(members, dialect, outcome.kind).subquery("derived")
    return _with_responder(derived, outcome.rule)


def derived_outcomes(members: Any, outcome: Outcome, joined: bool = False) -> Select[Any]:
    """The members' rows of one kind from the derived outcomes (`analytics_outcomes`), with
    the responder rule applied. Same columns as `outcome_rows`. `joined`: every read of it
    joins it to the members anyway, so it is not limited to them here (that would be a second
    join of every row)."""
    o = ANALYTICS_OUTCOMES
    derived = select(o).where(o.c.kind == outcome.kind)
    if not joined:
        derived = derived.where(o.c.patient_id.in_(select(members.c.patient_id)))
    return _with_responder(derived.subquery("derived"), outcome.rule)


def _with_responder(derived: Any, rule: ResponderRule | None) -> Select[Any]:
    d = derived.c
    return select(
        d.patient_id,
        d.tp,
        d.baseline,
        d.value,
        d.change,
        _responder(rule, d.tp, d.change, d.pct_max, d.pct_min).label("responder"),
    )


def _responder(
    rule: ResponderRule | None, tp: Any, change: Any, pct_max: Any, pct_min: Any
) -> ColumnElement[Any]:
    """1 when the clinic's responder rule for this kind is met at any site, 0 when not, NULL
    with no change (or no rule for the kind). Before the rule's "not before N months" a
    follow-up never counts. The percent change is per site, against a positive baseline."""
    if rule is None:
        return literal(None, Integer)
    judged = [
        p.key for p in TIME_POINTS if p.key != "baseline" and p.months >= rule.not_before_months
    ]
    # A rise is met when the largest percent change reaches the threshold, a fall when the
    # smallest (negated, exactly as the rulebook's sign does) does; exactly the threshold meets.
    best = pct_max if rule.direction == "up" else -pct_min
    met = and_(tp.in_(judged), best >= rule.threshold_percent - 1e-6) if judged else false()
    return case((change.is_(None), None), (met, 1), else_=0)


def _group_columns(members: Any, group: str | None) -> list[Any]:
    return [members.c[name] for name in GROUPINGS[group]] if group else []


def moments(
    members: Any, changes: Any, group: str | None = None, with_quantiles: bool = False
) -> Select[Any]:
    """Per time point (and group): n, sum and sum of squares of the change, responders; with
    `with_quantiles` (PostgreSQL) also q25, q50 and q75 of the change (`percentile_cont`), so
    the changes are joined to the members once for both."""
    keys = _group_columns(members, group)
    cuts = [
        func.percentile_cont(q).within_group(changes.c.change).label(f"q{int(q * 100)}")
        for q in (QUANTILES if with_quantiles else ())
    ]
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
            *cuts,
        )
        .join(members, members.c.patient_id == changes.c.patient_id)
        .where(changes.c.change.is_not(None))
        .group_by(changes.c.tp, *keys)
    )


def _time_point_rows(now: datetime, dialect: str) -> Any:
    """The time points with the first session time after which each is not yet due."""

    def due_after(p: TimePoint) -> Any:
        moment = literal(now - timedelta(days=p.target_day + p.window_after), UTCDateTime())
        # PostgreSQL types a UNION's column from its first row: say it is a time, not text.
        # (SQLite compares the stored text, and a CAST there would make it a number.)
        return moment if dialect == "sqlite" else cast(moment, UTCDateTime())

    rows = [
        select(literal(p.key).label("tp"), due_after(p).label("due_after")) for p in TIME_POINTS
    ]
    return union_all(*rows).subquery("time_points")


def follow_up_status(
    members: Any, changes: Any, now: datetime, dialect: str, group: str | None = None
) -> Select[Any]:
    """Per time point (and group), how many patients were measured in the window, dropped out
    (a plan stopped) without a value, are not yet due, or were due and have no value.

    Every member is counted under what they would be without a value (dropped out, not yet
    due, no value); the measured ones are then moved from there to "measured", from the
    changes joined to the members once (a left join of every member with every time point to
    the changes cost a second at 100,000 patients)."""
    points = _time_point_rows(now, dialect)
    keys = _group_columns(members, group)
    unmeasured = case(
        (members.c.dropped == 1, "dropped_out"),
        (members.c.t0 > points.c.due_after, "not_yet_due"),
        else_="no_value",
    )
    everyone = (
        select(points.c.tp, *keys, unmeasured.label("status"), func.count().label("patients"))
        .select_from(points)
        .join(members, true())
        .group_by(points.c.tp, *keys, unmeasured)
    )
    measured = (
        select(points.c.tp, *keys, unmeasured.label("status"), func.count().label("patients"))
        .select_from(changes)
        .join(members, members.c.patient_id == changes.c.patient_id)
        .join(points, points.c.tp == changes.c.tp)
        .group_by(points.c.tp, *keys, unmeasured)
        .cte("measured")
    )
    m_keys = [measured.c[c.name] for c in keys]
    counted = union_all(
        everyone,
        select(measured.c.tp, *m_keys, literal("measured").label("status"), measured.c.patients),
        select(measured.c.tp, *m_keys, measured.c.status, -measured.c.patients),
    ).subquery("counted")
    group_keys = [counted.c[c.name] for c in keys]
    total = func.sum(counted.c.patients)
    return (
        select(counted.c.tp, *group_keys, counted.c.status, total.label("patients"))
        .group_by(counted.c.tp, *group_keys, counted.c.status)
        .having(total != 0)
    )


def quantiles(members: Any, changes: Any, group: str | None = None) -> Select[Any]:
    """SQLite's quartiles of the change per time point (and group): the rows at the ordered
    positions around each quantile, with their position (0-based) and the count. (PostgreSQL
    computes them with `percentile_cont` in `moments`.)"""
    keys = _group_columns(members, group)
    joined = (
        select(changes.c.tp, *keys, changes.c.change)
        .join(members, members.c.patient_id == changes.c.patient_id)
        .where(changes.c.change.is_not(None))
    )
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


def cohort_size(members: Any) -> Select[Any]:
    return select(func.count()).select_from(members)


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
