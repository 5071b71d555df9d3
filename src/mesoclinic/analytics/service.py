"""Analytics use cases: saved cohorts, and a cohort's outcome summary, every one scoped to the
actor's clinic (group admins: the clinics they choose) and audited without patient ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mesoclinic.analytics import queries, rows, summaries
from mesoclinic.analytics.area import AnalyticsPermission
from mesoclinic.analytics.cohorts import (
    DEFAULT_KIND as DEFAULT_KIND,  # re-exported: routes and commands read it here
)
from mesoclinic.analytics.cohorts import (
    FOLLOW_UPS,
    QUANTILE_KEYS,
    TIME_POINT_SOURCE,
    TIME_POINTS,
    CohortFilter,
    filter_words,
    scope_for,
    time_point,
)
from mesoclinic.analytics.models import GROUP_SCOPE, SavedCohort
from mesoclinic.analytics.schemas import (
    CohortCreate,
    CohortSummary,
    CohortUpdate,
    GroupedSummary,
    TimePointRow,
)
from mesoclinic.analytics.scratch import MEMBER_COLUMNS, OUTCOME_COLUMNS, Scratch, scratch
from mesoclinic.db import utcnow
from mesoclinic.errors import Conflict, InvalidInput, NotFound
from mesoclinic.outcomes.kinds import KindBook, MeasurementKind, load_kinds
from mesoclinic.outcomes.responders import ResponderBook, ResponderRule, load_responder_rules
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic

CUSTOM = "custom filter"


def _scope_key(actor: Actor) -> str:
    return GROUP_SCOPE if actor.is_group_admin else str(actor.clinic_id)


def _visible(actor: Actor) -> Any:
    """Saved cohorts the actor may see: a clinic's own; group admins see every one."""
    query = select(SavedCohort)
    if not actor.is_group_admin:
        query = query.where(SavedCohort.scope == str(actor.clinic_id))
    return query


def list_cohorts(session: Session, actor: Actor) -> Sequence[SavedCohort]:
    """The saved cohorts the actor may use, by name (definitions only: no patient data)."""
    actor.require(AnalyticsPermission.VIEW)
    rows: Sequence[SavedCohort] = (
        session.execute(_visible(actor).order_by(SavedCohort.name)).scalars().all()
    )
    return rows


def load_cohort(session: Session, actor: Actor, cohort_id: uuid.UUID) -> SavedCohort:
    actor.require(AnalyticsPermission.VIEW)
    found: SavedCohort | None = session.execute(
        _visible(actor).where(SavedCohort.id == cohort_id)
    ).scalar()
    if found is None:
        raise NotFound("Cohort not found")
    return found


def cohort_by_name(session: Session, actor: Actor, name: str) -> SavedCohort:
    """A saved cohort by name: the actor's own scope first (a group admin's group cohorts)."""
    actor.require(AnalyticsPermission.VIEW)
    rows: Sequence[SavedCohort] = (
        session.execute(_visible(actor).where(SavedCohort.name == name)).scalars().all()
    )
    if not rows:
        raise NotFound(f"No saved cohort is called \u201c{name}\u201d", "cohort")
    own = [r for r in rows if r.scope == _scope_key(actor)]
    return (own or list(rows))[0]


def create_cohort(session: Session, actor: Actor, data: CohortCreate) -> SavedCohort:
    """Save a named cohort for the actor's clinic (a group admin's: for the group)."""
    actor.require(AnalyticsPermission.VIEW)
    scope = _scope_key(actor)
    row = SavedCohort(
        clinic_id=None if actor.is_group_admin else actor.clinic_id,
        scope=scope,
        name=data.name,
        filter=data.filter.model_dump(mode="json"),
        created_by=actor.username,
        updated_by=actor.username,
    )
    _refuse_taken_name(session, scope, data.name)
    session.add(row)
    _flush_unique(session)
    audit.record(session, actor, "create", "analytics_cohort", row.id, detail={"name": row.name})
    return row


def update_cohort(
    session: Session, actor: Actor, cohort_id: uuid.UUID, data: CohortUpdate
) -> SavedCohort:
    """Rename a saved cohort or change its filter (only the fields sent)."""
    row = load_cohort(session, actor, cohort_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if changes.get("name") is None:
        changes.pop("name", None)
    if "name" in changes and changes["name"] != row.name:
        _refuse_taken_name(session, row.scope, changes["name"])
        row.name = changes["name"]
    if changes.get("filter") is not None:
        row.filter = changes["filter"]
    row.updated_by, row.updated_at = actor.username, utcnow()
    _flush_unique(session)
    audit.record(
        session, actor, "update", "analytics_cohort", row.id, detail={"fields": sorted(changes)}
    )
    return row


def delete_cohort(session: Session, actor: Actor, cohort_id: uuid.UUID) -> None:
    """Delete a saved definition (it holds no clinical record, so it is not kept voided)."""
    row = load_cohort(session, actor, cohort_id)
    audit.record(session, actor, "delete", "analytics_cohort", row.id, detail={"name": row.name})
    session.delete(row)
    session.flush()


def _refuse_taken_name(session: Session, scope: str, name: str) -> None:
    taken = session.execute(
        select(SavedCohort.id).where(SavedCohort.scope == scope, SavedCohort.name == name)
    ).first()
    if taken:
        raise Conflict(f"A cohort called \u201c{name}\u201d already exists", "name")


def _flush_unique(session: Session) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent save of the same name
        raise Conflict("A cohort with this name already exists", "name") from exc


@dataclass(frozen=True)
class Resolved:
    """A cohort ready to query: its name, filter, words and the statements selecting it (from
    the clinical tables, and from the derived rows)."""

    name: str
    filter: CohortFilter
    words: str
    query: Select[Any]
    dialect: str
    derived: Select[Any]


def resolve(
    session: Session,
    actor: Actor,
    *,
    cohort: str | None = None,
    filt: CohortFilter | None = None,
    today: datetime | None = None,
) -> Resolved:
    """The saved cohort called `cohort`, or the ad-hoc `filt` (neither: every treated
    patient in scope), limited to the clinics the actor may see."""
    actor.require(AnalyticsPermission.VIEW)
    if cohort is not None and filt is not None:
        raise InvalidInput("Give a saved cohort or a filter, not both", "cohort")
    name = CUSTOM
    if cohort is not None:
        saved = cohort_by_name(session, actor, cohort)
        name, filt = saved.name, CohortFilter.model_validate(saved.filter)
    filt = filt or CohortFilter()
    scope = scope_for(filt, group_admin=actor.is_group_admin, own_clinic=actor.clinic_id)
    names = {i: n for i, n in session.execute(select(Clinic.id, Clinic.name)).all()}
    shown = filt if actor.is_group_admin else filt.model_copy(update={"clinic": ()})
    words = filter_words(shown, names)
    if not actor.is_group_admin:
        words += f"; at {names.get(actor.clinic_id, 'your clinic')}"  # type: ignore[arg-type]
    day = (today or datetime.now(UTC)).date()
    dialect = session.get_bind().dialect.name
    return Resolved(
        name,
        filt,
        words,
        queries.cohort(filt, scope, day, dialect),
        dialect,
        queries.derived_cohort(filt, scope, day),
    )


def record_read(session: Session, actor: Actor, view: str, cohort: Resolved, **detail: Any) -> None:
    """One audit entry per analytics read: what was looked at, never which patients."""
    audit.record(
        session,
        actor,
        "analytics",
        "analytics_cohort",
        None,
        detail={
            "view": view,
            "cohort": cohort.name,
            "filter": cohort.filter.model_dump(mode="json", exclude_defaults=True),
        }
        | detail,
    )


def measure(kind: str, kinds: KindBook) -> MeasurementKind:
    found = kinds.get(kind)
    if found is None:
        raise InvalidInput(f"Unknown measurement kind \u201c{kind}\u201d", "kind")
    return found


def rule_for(kind: str, book: ResponderBook) -> ResponderRule | None:
    """The first responder rule that judges this kind (the rulebook's own order)."""
    return next((r for r in book.responder if kind in r.kinds), None)


def members(tables: Scratch, resolved: Resolved, label: str = "cohort") -> Any:
    """The cohort's patients: a filter over the derived rows when they are ready
    (`queries.derived_cohort`), else selected once into a scratch table (`queries.cohort`)."""
    if tables.derived:
        return resolved.derived.subquery(label)
    return tables.table(label, MEMBER_COLUMNS, resolved.query, ["patient_id"])


def outcomes(
    tables: Scratch,
    cohort: Any,
    kind: str,
    rule: ResponderRule | None,
    label: str = "changes",
    *,
    joined: bool = False,
) -> Any:
    """Each member's values and changes per time point: the derived rows of the kind when they
    are ready (`queries.derived_outcomes`; `joined`: every read of it joins the members), else
    computed once into a scratch table (`queries.outcome_rows`)."""
    outcome = queries.Outcome(kind, rule)
    if tables.derived:
        return queries.derived_outcomes(cohort, outcome, joined).subquery(label)
    statement = queries.outcome_rows(cohort, outcome, tables.dialect)
    return tables.table(label, OUTCOME_COLUMNS, statement, ["patient_id", "tp"])


def time_point_rows(
    session: Session,
    cohort: Any,
    changes: Any,
    dialect: str,
    *,
    group: str | None = None,
    now: datetime | None = None,
) -> list[TimePointRow]:
    """Per time point (and group): the counts and change figures, two aggregate queries on
    PostgreSQL (moments with the quartiles, follow-up status), three on SQLite."""
    keys = list(queries.GROUPINGS[group]) if group else []
    with_cuts = dialect != "sqlite"
    found = session.execute(queries.moments(cohort, changes, group, with_cuts)).mappings().all()
    moments = {(r["tp"], *(r[k] for k in keys)): summaries.moments_from(r) for r in found}
    statuses = summaries.status_counts(
        session.execute(
            queries.follow_up_status(cohort, changes, now or utcnow(), dialect, group)
        ).mappings(),
        keys,
    )
    cuts = (
        {(r["tp"], *(r[k] for k in keys)): {q: r[q] for q in QUANTILE_KEYS} for r in found}
        if with_cuts
        else _quantiles(session, cohort, changes, group, keys)
    )
    if group is None:  # an empty cohort still shows every time point, with zeros
        for point in TIME_POINTS:
            statuses.setdefault((point.key,), {})
    rows = []
    for key in sorted(statuses, key=lambda k: (tuple(str(v) for v in k[1:]), _order(k[0]))):
        size = sum(statuses[key].values())
        label = " ".join(str(v) for v in key[1:] if v is not None) or None
        if group and label is None:
            label = "not recorded"
        rows.append(
            summaries.time_point_row(
                key[0], size, statuses[key], moments.get(key), cuts.get(key, {}), label
            )
        )
    return rows


def _order(tp: str) -> int:
    return [p.key for p in TIME_POINTS].index(tp)


def _quantiles(
    session: Session, cohort: Any, changes: Any, group: str | None, keys: list[str]
) -> dict[Any, dict[str, float | None]]:
    """SQLite's quartiles: the rows at the positions around each, interpolated here."""
    statement = queries.quantiles(cohort, changes, group)
    grouped: dict[Any, list[tuple[int, int, float]]] = {}
    for r in session.execute(statement).mappings():
        grouped.setdefault((r["tp"], *(r[k] for k in keys)), []).append(
            (r["position"], r["n"], r["change"])
        )
    return {key: summaries.quantiles_from_positions(values) for key, values in grouped.items()}


def summary(
    session: Session,
    actor: Actor,
    *,
    cohort: str | None = None,
    filt: CohortFilter | None = None,
    kind: str = DEFAULT_KIND,
    kinds: KindBook | None = None,
    responders: ResponderBook | None = None,
    now: datetime | None = None,
) -> CohortSummary:
    """The cohort's outcome at baseline, 3, 6 and 12 months: counts, mean change with its CI,
    quartiles, responder rate with its Wilson CI, drop-outs and missing values."""
    resolved = resolve(session, actor, cohort=cohort, filt=filt, today=now)
    what = measure(kind, kinds or load_kinds())
    book = responders or load_responder_rules()
    rule = rule_for(kind, book)
    with scratch(session) as tables:
        chosen = members(tables, resolved)
        changes = outcomes(tables, chosen, kind, rule, joined=True)
        rows = time_point_rows(session, chosen, changes, resolved.dialect, now=now)
    record_read(session, actor, "summary", resolved, kind=kind)
    return CohortSummary(
        cohort=resolved.name,
        description=resolved.words,
        kind=kind,
        kind_label=what.label,
        unit=what.unit,
        responder_rule=rule.label if rule else None,
        responder_source=book.source if rule else None,
        windows_source=TIME_POINT_SOURCE,
        time_points=rows,
    )


def grouped_summary(
    session: Session,
    resolved: Resolved,
    cohort: Any,
    changes: Any,
    *,
    by: str,
    kind: str,
    point: str,
    kinds: KindBook,
    now: datetime | None = None,
) -> GroupedSummary:
    """The outcome at one time point per cocktail (of the first session) or protocol, from
    the cohort's scratch tables (`members`, `outcomes`)."""
    tp = time_point(point)
    if tp not in FOLLOW_UPS:
        raise InvalidInput("Choose a follow-up time point (3m, 6m or 12m)", "time_point")
    rows = time_point_rows(session, cohort, changes, resolved.dialect, group=by, now=now)
    return GroupedSummary(
        cohort=resolved.name,
        description=resolved.words,
        kind=kind,
        unit=measure(kind, kinds).unit,
        by=by,
        time_point=point,
        rows=[r for r in rows if r.time_point == point],
    )


def rebuild_rows(session: Session, actor: Actor) -> dict[str, int]:
    """Every patient's derived analytics rows from scratch (`analytics.rows.rebuild`), e.g.
    after the time points' definition changed; audited with the row counts, no patient id."""
    actor.require(AnalyticsPermission.VIEW)
    counts = rows.rebuild(session.connection())
    audit.record(session, actor, "rebuild", "analytics_rows", None, detail={"rows": counts})
    return counts


def builder_choices(session: Session, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """What the cohort builder offers: recorded protocols, cocktails and stages, and (for
    group admins) the clinics. Values only, never patients."""
    actor.require(AnalyticsPermission.VIEW)
    statements = queries.choices()
    protocols = [
        (str(p), str(p).replace("_", " ")) for (p,) in session.execute(statements["protocol"])
    ]
    cocktails = [(str(c), str(c)) for (c,) in session.execute(statements["cocktail"])]
    stages = [
        (f"{scale}:{grade}", f"{str(scale).replace('_', '-')} {grade}")
        for scale, grade in session.execute(statements["stage"])
    ]
    clinics: list[tuple[str, str]] = []
    if actor.is_group_admin:
        clinics = [
            (str(i), n)
            for i, n in session.execute(select(Clinic.id, Clinic.name).order_by(Clinic.name))
        ]
    return {"protocol": protocols, "cocktail": cocktails, "stage": stages, "clinic": clinics}
