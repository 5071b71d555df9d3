"""Each patient's derived analytics rows: built in SQL, kept up to date on every write.

`patient_rows` and `outcome_rows` select, for every patient or for the given ones, what the
cohort reads need (`models.ANALYTICS_PATIENTS`, `ANALYTICS_OUTCOMES`): the same set-based
statements serve the bulk `rebuild` (one INSERT ... SELECT per table) and `refresh`, which
replaces the rows of the patients a flush touched. A listener on every ORM session runs
`refresh` after each flush that added, changed or removed a patient, visit, measurement,
assessment or plan, on the flush's own connection: the derived rows change in the same
transaction as the records they come from, whichever service wrote them.

`analytics_state` holds the fingerprint of the definition the rows were built with (the time
points' windows and `ROWS_VERSION`); `ready` tells the reads whether they may use the rows. When
the definition changes, the reads fall back to deriving each cohort per request until
`mesoclinic analytics rebuild` runs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    cast,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, UOWTransaction

from mesoclinic.analytics.cohorts import TIME_POINTS
from mesoclinic.analytics.models import (
    ANALYTICS_EXPOSURES,
    ANALYTICS_OUTCOMES,
    ANALYTICS_PATIENTS,
    ANALYTICS_STATE,
)
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import RecordStatus
from mesoclinic.formulary.models import Cocktail, Lot
from mesoclinic.outcomes.models import Measurement, MeasurementStatus
from mesoclinic.patients.models import Patient
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot, VisitStatus

ROWS_VERSION = 2  # raise when what the rows hold changes: the reads then wait for a rebuild
STATE_NAME = "rows"
LOCK_CLASS = 0x616E61  # the first key of the advisory locks a refresh takes per patient
WATCHED = (Visit, Measurement, Assessment, TreatmentPlan)  # each has a patient_id
BY_VISIT = (VisitLot, AdverseEvent)  # each has a visit_id: the visit's patient's exposures


def fingerprint() -> str:
    """The definition the derived rows follow: their version and every time point's window."""
    points = [(p.key, p.target_day, p.window_before, p.window_after) for p in TIME_POINTS]
    text = json.dumps({"version": ROWS_VERSION, "time_points": points})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    """`later - earlier` in (fractional) days, in the database's own arithmetic."""
    if dialect == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    seconds = func.extract("epoch", later - earlier)
    days: ColumnElement[float] = seconds / 86400.0  # type: ignore[assignment]
    return days


def one_per_patient(
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


def _only(query: Any, column: Any, ids: list[uuid.UUID] | None) -> Any:
    return query if ids is None else query.where(column.in_(ids))


def first_sessions(dialect: str, ids: list[uuid.UUID] | None = None) -> Any:
    """Each patient's first completed session (time, cocktail id and name)."""
    query = (
        select(
            Visit.patient_id, Visit.performed_at, Visit.cocktail_id, Cocktail.name.label("cocktail")
        )
        .join(Cocktail, Cocktail.id == Visit.cocktail_id)
        .where(Visit.status == VisitStatus.COMPLETED)
    )
    query = _only(query, Visit.patient_id, ids)
    return one_per_patient(
        query, Visit.patient_id, Visit.performed_at, False, dialect, "first_session"
    )


def latest_assessments(dialect: str, ids: list[uuid.UUID] | None = None) -> Any:
    query = select(
        Assessment.patient_id,
        Assessment.diagnosis,
        Assessment.staging_scale,
        Assessment.staging_grade,
    ).where(Assessment.status == RecordStatus.ACTIVE)
    query = _only(query, Assessment.patient_id, ids)
    return one_per_patient(
        query, Assessment.patient_id, Assessment.assessed_at, True, dialect, "latest_assessment"
    )


def latest_plans(dialect: str, ids: list[uuid.UUID] | None = None) -> Any:
    query = _only(
        select(TreatmentPlan.patient_id, TreatmentPlan.protocol_code), TreatmentPlan.patient_id, ids
    )
    return one_per_patient(
        query, TreatmentPlan.patient_id, TreatmentPlan.created_at, True, dialect, "latest_plan"
    )


def patient_rows(dialect: str, ids: list[uuid.UUID] | None = None) -> Select[Any]:
    """The treated patients' cohort rows, in `ANALYTICS_PATIENTS`' column order."""
    first = first_sessions(dialect, ids)
    latest = latest_assessments(dialect, ids)
    plan = latest_plans(dialect, ids)
    dropped = exists().where(
        TreatmentPlan.patient_id == Patient.id, TreatmentPlan.status == PlanStatus.STOPPED
    )
    prp = exists().where(
        Visit.patient_id == Patient.id,
        Visit.status == VisitStatus.COMPLETED,
        Visit.prp_given.is_(true()),
    )
    query = (
        select(
            Patient.id,
            Patient.clinic_id,
            first.c.performed_at,
            Patient.sex,
            Patient.birth_date,
            latest.c.diagnosis,
            latest.c.staging_scale,
            latest.c.staging_grade,
            first.c.cocktail_id,
            plan.c.protocol_code,
            case((dropped, 1), else_=0),
            case((prp, True), else_=False),
        )
        .join(first, first.c.patient_id == Patient.id)
        .outerjoin(latest, latest.c.patient_id == Patient.id)
        .outerjoin(plan, plan.c.patient_id == Patient.id)
        .where(Patient.status == RecordStatus.ACTIVE)
    )
    return query if ids is None else query.where(Patient.id.in_(ids))


def outcome_rows(members: Any, dialect: str, kind: str | None = None) -> Select[Any]:
    """Per patient, kind and time point measured: the nearest value's change from baseline.

    `members` is a table or subquery with patient_id and t0 (the derived patients, or a
    request's scratch cohort); `kind` limits the kinds read (None: every kind). One pass over
    the members' measurements: each is tagged with its time point (a `CASE` over the windows on
    the day difference), the one nearest the target day is kept per patient, kind, site and
    time point (`DISTINCT ON` on PostgreSQL; SQLite's `min()` with bare columns), the site's
    baseline is put beside each of its follow-ups by a window (no self-join), and the sites
    are averaged per patient.

    Columns: patient_id, kind, tp, baseline, value, change, pct_max, pct_min. A row exists for
    every time point with a value at any site ("measured"); baseline, value and change are NULL
    for the baseline row and for a follow-up with no baseline at the same site; pct_max and
    pct_min are the largest and smallest per-site percent change over sites with a positive
    baseline (NULL when there is none).
    """
    day = days_between(Measurement.measured_at, members.c.t0, dialect)
    on = Measurement.patient_id == members.c.patient_id
    if kind is not None:
        on = and_(on, Measurement.kind == kind)
    # The day difference is computed once per measurement, below the fence, and the windows
    # are tested on that column (repeating the date arithmetic per window cost as much again).
    timed = (
        select(
            members.c.patient_id,
            Measurement.kind,
            Measurement.site_id,
            Measurement.value,
            day.label("day"),
        )
        .select_from(members)
        .join(Measurement, on)
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
        select(timed.c.patient_id, timed.c.kind, timed.c.site_id, timed.c.value, tp.label("tp"))
        .add_columns(distance.label("distance"))
        .subquery("tagged")
    )
    keys = (tagged.c.patient_id, tagged.c.kind, tagged.c.site_id, tagged.c.tp)
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
        partition_by=(nearest.c.patient_id, nearest.c.kind, nearest.c.site_id)
    )
    sites = select(
        nearest.c.patient_id,
        nearest.c.kind,
        nearest.c.tp,
        nearest.c.value,
        site_baseline.label("base"),
    ).subquery("sites")
    paired = and_(sites.c.tp != "baseline", sites.c.base.is_not(None))
    change = sites.c.value - sites.c.base
    # As the responder rule computes it: 1.0 * change * 100.0 / baseline (a rule judging a
    # fall negates it, exactly, so the smallest serves it).
    percent = case((and_(paired, sites.c.base > 0), 1.0 * change * 100.0 / sites.c.base))
    return select(
        sites.c.patient_id,
        sites.c.kind,
        sites.c.tp,
        func.avg(case((paired, sites.c.base))).label("baseline"),
        func.avg(case((paired, sites.c.value))).label("value"),
        func.avg(case((paired, change))).label("change"),
        func.max(percent).label("pct_max"),
        func.min(percent).label("pct_min"),
    ).group_by(sites.c.patient_id, sites.c.kind, sites.c.tp)


EXPOSURE_KEYS = {
    "lot": "lot_id",
    "product": "product_id",
    "technique": "technique",
    "clinician": "practitioner_id",
    "cocktail": "cocktail_id",
}


def exposure_rows(ids: list[uuid.UUID] | None = None) -> Any:
    """Per patient and exposure (`EXPOSURE_KEYS`), the completed sessions that used it and
    those with an adverse event, in `ANALYTICS_EXPOSURES`' column order (one UNION ALL)."""
    adverse = select(AdverseEvent.visit_id).where(AdverseEvent.type != "none").distinct().subquery()
    had_event = adverse.c.visit_id.is_not(None)
    completed = Visit.status == VisitStatus.COMPLETED
    parts = []
    for dimension, key_name in EXPOSURE_KEYS.items():
        if dimension in ("lot", "product"):
            key: Any = VisitLot.lot_id if dimension == "lot" else Lot.product_id
            source: Any = (
                select(Visit.patient_id, key.label("key"), Visit.id.label("visit_id"))
                .join(VisitLot, VisitLot.visit_id == Visit.id)
                .join(Lot, Lot.id == VisitLot.lot_id)
                .where(completed)
                .distinct()  # a session drawing on two lots of one product counts once
            )
        else:
            key = {
                "technique": Visit.technique,
                "clinician": Visit.practitioner_id,
                "cocktail": Visit.cocktail_id,
            }[dimension]
            source = select(Visit.patient_id, key.label("key"), Visit.id.label("visit_id")).where(
                completed
            )
        source = _only(source, Visit.patient_id, ids).subquery(f"used_{dimension}")
        columns: list[Any] = [
            source.c.key if name == key_name else null_of(name) for name in EXPOSURE_KEYS.values()
        ]
        parts.append(
            select(
                source.c.patient_id,
                literal(dimension),
                *columns,
                func.count().label("sessions"),
                func.count(case((had_event, 1))).label("events"),
            )
            .outerjoin(adverse, adverse.c.visit_id == source.c.visit_id)
            .group_by(source.c.patient_id, source.c.key)
        )
    return union_all(*parts)


def null_of(name: str) -> Any:
    """A typed NULL for an exposure key column the row does not use."""
    return cast(null(), ANALYTICS_EXPOSURES.c[name].type).label(name)


PATIENT_COLUMNS = [c.name for c in ANALYTICS_PATIENTS.columns]
EXPOSURE_COLUMNS = [c.name for c in ANALYTICS_EXPOSURES.columns]
OUTCOME_COLUMNS = [c.name for c in ANALYTICS_OUTCOMES.columns]


def _fill(connection: Connection, ids: list[uuid.UUID] | None) -> None:
    dialect = connection.dialect.name
    connection.execute(
        insert(ANALYTICS_PATIENTS).from_select(PATIENT_COLUMNS, patient_rows(dialect, ids))
    )
    members = _only(
        select(ANALYTICS_PATIENTS.c.patient_id, ANALYTICS_PATIENTS.c.t0),
        ANALYTICS_PATIENTS.c.patient_id,
        ids,
    ).subquery("members")
    connection.execute(
        insert(ANALYTICS_OUTCOMES).from_select(OUTCOME_COLUMNS, outcome_rows(members, dialect))
    )
    connection.execute(
        insert(ANALYTICS_EXPOSURES).from_select(EXPOSURE_COLUMNS, exposure_rows(ids))
    )


def _lock_key(patient_id: uuid.UUID) -> int:
    """A 32-bit signed key from the id (two ids sharing one only wait for each other)."""
    return int.from_bytes(patient_id.bytes[:4], "big", signed=True)


def refresh(connection: Connection, patient_ids: Iterable[uuid.UUID]) -> None:
    """Replace the derived rows of these patients with what their records say now."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    if connection.dialect.name == "postgresql":
        # Two transactions refreshing one patient at once would both insert the patient's rows
        # (the second failing on the key): the second waits here until the first commits, then
        # reads what it committed. SQLite has one writer at a time already.
        for patient_id in ids:
            connection.execute(
                select(func.pg_advisory_xact_lock(LOCK_CLASS, _lock_key(patient_id)))
            )
    for table in (ANALYTICS_EXPOSURES, ANALYTICS_OUTCOMES, ANALYTICS_PATIENTS):
        connection.execute(delete(table).where(table.c.patient_id.in_(ids)))
    _fill(connection, ids)


def rebuild(connection: Connection) -> dict[str, int]:
    """Every patient's derived rows from scratch (two INSERT ... SELECT), then the state row
    naming the definition they follow. Returns the rows written per table."""
    if connection.dialect.name == "postgresql":  # writes touching a patient wait for it
        connection.exec_driver_sql(
            "LOCK TABLE analytics_patients, analytics_outcomes, analytics_exposures "
            "IN EXCLUSIVE MODE"
        )
    for table in (ANALYTICS_EXPOSURES, ANALYTICS_OUTCOMES, ANALYTICS_PATIENTS):
        connection.execute(delete(table))
    _fill(connection, None)
    connection.execute(delete(ANALYTICS_STATE).where(ANALYTICS_STATE.c.name == STATE_NAME))
    connection.execute(
        insert(ANALYTICS_STATE).values(
            name=STATE_NAME, fingerprint=fingerprint(), built_at=datetime.now(UTC)
        )
    )
    if connection.dialect.name == "postgresql":  # statistics for the reads' plans
        for table in (ANALYTICS_PATIENTS, ANALYTICS_OUTCOMES, ANALYTICS_EXPOSURES):
            connection.exec_driver_sql(f"ANALYZE {table.name}")
    return {
        table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        for table in (ANALYTICS_PATIENTS, ANALYTICS_OUTCOMES, ANALYTICS_EXPOSURES)
    }


def ready(connection: Connection) -> bool:
    """Whether the derived rows follow the running code's definition (else: read around them)."""
    found = connection.execute(
        select(ANALYTICS_STATE.c.fingerprint).where(ANALYTICS_STATE.c.name == STATE_NAME)
    ).scalar()
    return found == fingerprint()


def touched_patients(session: Session) -> set[uuid.UUID]:
    """The patients whose records this flush adds, changes or removes."""
    ids: set[uuid.UUID] = set()
    visits: set[uuid.UUID] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if obj in session.dirty and not session.is_modified(obj):
            continue
        if isinstance(obj, Patient):
            ids.add(obj.id)
        elif isinstance(obj, WATCHED):
            ids.add(obj.patient_id)
            # a record moved to another patient changes that one's rows too
            history = _history(obj, "patient_id")
            ids.update(i for i in history if i is not None)
        elif isinstance(obj, BY_VISIT):
            visits.add(obj.visit_id)
            visits.update(i for i in _history(obj, "visit_id") if i is not None)
    if visits:
        ids.update(
            session.connection()
            .execute(select(Visit.patient_id).where(Visit.id.in_(sorted(visits))))
            .scalars()
        )
    return ids


def _history(obj: Any, name: str) -> list[Any]:
    deleted = inspect(obj).attrs[name].history.deleted
    return list(deleted or ())


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, _context: UOWTransaction) -> None:
    """Keep the derived rows in step with every write, in the writer's transaction."""
    ids = touched_patients(session)
    if ids:
        refresh(session.connection(), ids)
