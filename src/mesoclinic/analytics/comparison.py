"""Two cohorts compared at one time point: the per-patient vectors (n rows, no identifiers) are
read from the database and handed to the statistics in `compare.py`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.analytics import compare as stats_compare
from mesoclinic.analytics import queries, service
from mesoclinic.analytics.cohorts import FOLLOW_UPS, CohortFilter, suppressed, time_point
from mesoclinic.analytics.schemas import BalanceRow, CohortComparison, ComparisonRow, Interval
from mesoclinic.analytics.stats import InsufficientData
from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.responders import ResponderBook, load_responder_rules
from mesoclinic.security.actor import Actor

LABELS = {
    "unadjusted": "Unadjusted difference in mean change (Welch)",
    "ancova": "Adjusted for baseline (ANCOVA)",
    "mixed": "Repeated measures (linear mixed model, every time point up to this one)",
    "propensity": "Propensity-weighted for age, sex and stage",
}


@dataclass(frozen=True)
class Vectors:
    """One cohort's patients at the time point (changes and covariates) and all time points."""

    baseline: list[float]
    value: list[float]
    change: list[float]
    age: list[float]
    sex: list[str]
    stage: list[str]
    # (subject, months, value) rows for the mixed model, month 0 the baseline
    repeated: list[tuple[int, float, float]]


def _age(birth: date, at: datetime) -> float:
    return (at.date() - birth).days / 365.25


def vectors(session: Session, statement: Any, point: str, offset: int) -> Vectors:
    out = Vectors([], [], [], [], [], [], [])
    baselines: dict[int, float] = {}
    months = {p.key: p.months for p in FOLLOW_UPS}
    for r in session.execute(statement).mappings():
        subject = int(r["subject"]) + offset
        baselines.setdefault(subject, float(r["baseline"]))
        # The mixed model reads every time point up to this one, so its estimate is the change
        # over the same months as the others'.
        if months[r["tp"]] <= months[point]:
            out.repeated.append((subject, months[r["tp"]], float(r["value"])))
        if r["tp"] != point:
            continue
        out.baseline.append(float(r["baseline"]))
        out.value.append(float(r["value"]))
        out.change.append(float(r["change"]))
        out.age.append(_age(r["birth_date"], r["t0"]))
        out.sex.append(str(r["sex"]))
        stage = f"{r['scale']} {r['grade']}" if r["scale"] and r["grade"] else "not staged"
        out.stage.append(stage)
    out.repeated.extend((s, 0.0, b) for s, b in baselines.items())
    return out


def compare(
    session: Session,
    actor: Actor,
    *,
    a: tuple[str | None, CohortFilter | None],
    b: tuple[str | None, CohortFilter | None],
    kind: str = service.DEFAULT_KIND,
    point: str = "6m",
    kinds: KindBook | None = None,
    responders: ResponderBook | None = None,
    now: datetime | None = None,
) -> CohortComparison:
    """Cohort B against cohort A at one time point, four ways, with balance and the caveat."""
    tp = time_point(point)
    if tp not in FOLLOW_UPS:
        raise InvalidInput("Choose a follow-up time point (3m, 6m or 12m)", "time_point")
    if a == (None, None) or b == (None, None):
        raise InvalidInput("Name two cohorts (or give two filters) to compare", "cohort_b")
    unit = service.measure(kind, kinds or load_kinds()).unit
    book = responders or load_responder_rules()
    sides = []
    for label, (name, filt) in (("a", a), ("b", b)):
        resolved = service.resolve(session, actor, cohort=name, filt=filt, today=now)
        members = resolved.members.element.cte(f"cohort_{label}")
        nearest = queries.nearest_values(members, kind, resolved.dialect, f"nearest_{label}")
        rule = service.rule_for(kind, book)
        changes = queries.patient_changes(nearest, queries.Outcome(kind, rule), f"changes_{label}")
        sides.append((resolved, members, changes))
    (res_a, members_a, changes_a), (res_b, members_b, changes_b) = sides
    data_a = vectors(session, queries.patient_vectors(members_a, changes_a), tp.key, 0)
    data_b = vectors(session, queries.patient_vectors(members_b, changes_b), tp.key, 10**9)
    shared = int(session.execute(queries.overlap(members_a, members_b)).scalar_one())
    result = _estimates(data_a, data_b, shared)
    service.record_read(
        session,
        actor,
        "compare",
        res_a,
        kind=kind,
        time_point=tp.key,
        other={
            "cohort": res_b.name,
            "filter": res_b.filter.model_dump(mode="json", exclude_defaults=True),
        },
    )
    n_a, n_b = len(data_a.change), len(data_b.change)
    return CohortComparison(
        cohort_a=res_a.name,
        cohort_b=res_b.name,
        description_a=res_a.words,
        description_b=res_b.words,
        kind=kind,
        unit=unit,
        time_point=tp.key,
        n_a=None if suppressed(n_a) else n_a,
        n_b=None if suppressed(n_b) else n_b,
        overlap=shared,
        **result,
    )


def _estimates(a: Vectors, b: Vectors, shared: int) -> dict[str, Any]:
    n_a, n_b = len(a.change), len(b.change)
    if n_a < 5 or n_b < 5:
        return {
            "rows": [],
            "balance": [],
            "suppressed": True,
            "caveat": "Each cohort needs at least 5 patients measured at this time point for a "
            f"comparison (A has {'fewer than 5' if suppressed(n_a) else n_a}, "
            f"B {'fewer than 5' if suppressed(n_b) else n_b}).",
        }
    group = [0] * n_a + [1] * n_b
    covariates: dict[str, Sequence[float | str]] = {
        "age": a.age + b.age,
        "sex": a.sex + b.sex,
        "stage": a.stage + b.stage,
    }
    fits: list[tuple[str, Any]] = [
        ("unadjusted", lambda: stats_compare.compare_unadjusted(a.change, b.change)),
        (
            "ancova",
            lambda: stats_compare.compare_ancova(a.baseline + b.baseline, a.value + b.value, group),
        ),
        ("mixed", lambda: _mixed(a, b)),
        (
            "propensity",
            lambda: stats_compare.compare_propensity(a.change + b.change, group, covariates),
        ),
    ]
    rows, estimates = [], []
    for method, fit in fits:
        try:
            found = fit()
        except InsufficientData as exc:
            rows.append(_unavailable(method, str(exc)))
            continue
        estimates.append(found)
        rows.append(_row(found))
    balance = stats_compare.covariate_balance(group, covariates)
    # The caveat quotes the baseline-adjusted estimate, else the first one that could be made.
    reference = next((e for e in estimates if e.method == "ancova"), None) or next(
        iter(estimates), None
    )
    caveat = (
        stats_compare.observational_caveat(reference, balance)
        if reference
        else "Clinic data is observational, and these cohorts gave no estimate of a difference."
    )
    if shared:
        caveat += (
            f" {shared} patients are in both cohorts, so the two are not independent and the "
            "intervals are too narrow."
        )
    return {
        "rows": rows,
        "balance": [
            BalanceRow(
                covariate=x.covariate,
                smd_before=_finite(x.smd_before),
                smd_after=_finite(x.smd_after),
            )
            for x in balance
        ],
        "suppressed": False,
        "caveat": caveat.strip(),
    }


def _mixed(a: Vectors, b: Vectors) -> Any:
    rows = [(s, m, v, 0) for s, m, v in a.repeated] + [(s, m, v, 1) for s, m, v in b.repeated]
    return stats_compare.compare_mixed(
        [r[0] for r in rows], [r[3] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _row(found: Any) -> ComparisonRow:
    return ComparisonRow(
        method=found.method,
        label=LABELS[found.method],
        difference=found.difference,
        ci=Interval(low=found.ci.low, high=found.ci.high),
        p_value=found.p_value,
        n_a=found.n_a,
        n_b=found.n_b,
        note=found.note,
    )


def _unavailable(method: str, reason: str) -> ComparisonRow:
    return ComparisonRow(
        method=method,
        label=LABELS[method],
        difference=None,
        ci=None,
        p_value=None,
        n_a=None,
        n_b=None,
        note=f"Not estimated: {reason}.",
    )
