"""Two cohorts compared at one time point. Each cohort and its outcomes are computed once into
scratch tables; from them the database totals what Welch and ANCOVA need (a dozen sums per
cohort) and the mixed model's patterns (a few dozen rows), and only the propensity model reads
one row per patient (change, age, sex and stage: no identifier). The statistics are in
`compare.py`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from mesoclinic.analytics import comparison_queries as sql
from mesoclinic.analytics import service
from mesoclinic.analytics.cohorts import FOLLOW_UPS, CohortFilter, suppressed, time_point
from mesoclinic.analytics.schemas import BalanceRow, CohortComparison, ComparisonRow, Interval
from mesoclinic.analytics.scratch import scratch
from mesoclinic.analytics.stats import InsufficientData
from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.responders import ResponderBook, load_responder_rules
from mesoclinic.security.actor import Actor

if TYPE_CHECKING:  # the statistics (NumPy, SciPy, statsmodels) load with the first comparison
    import numpy as np

    from mesoclinic.analytics import compare as stats_compare

LABELS = {
    "unadjusted": "Unadjusted difference in mean change (Welch)",
    "ancova": "Adjusted for baseline (ANCOVA)",
    "mixed": "Repeated measures (linear mixed model, every time point up to this one)",
    "propensity": "Propensity-weighted for age, sex and stage",
}


@dataclass(frozen=True)
class Side:
    """What one cohort gives the comparison: totals at the time point (Welch, ANCOVA), the
    mixed model's patterns, and per patient the change and covariates (propensity)."""

    sums: stats_compare.GroupSums
    patterns: list[Any]
    change: list[float]
    age: list[float]
    sex: list[str]
    stage: list[str]


def read_side(session: Session, changes: Any, members: Any, point: str, dialect: str) -> Side:
    """Three aggregate reads of one cohort's scratch tables."""
    from mesoclinic.analytics import compare as stats_compare

    months = next(p.months for p in FOLLOW_UPS if p.key == point)
    totals = session.execute(sql.comparison_sums(changes, point)).mappings().one()
    sums = stats_compare.GroupSums(
        int(totals["n"]),
        *(float(totals[k] or 0.0) for k in ("x", "y", "c", "xx", "yy", "cc", "xy")),
    )
    patterns = list(session.execute(sql.mixed_patterns(changes, months)).mappings())
    rows = session.execute(sql.propensity_rows(members, changes, point, dialect)).all()
    return Side(
        sums,
        patterns,
        [float(r.change) for r in rows],
        [float(r.age_days) / 365.25 for r in rows],
        [str(r.sex) for r in rows],
        [f"{r.scale} {r.grade}" if r.scale and r.grade else "not staged" for r in rows],
    )


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
    res_a = service.resolve(session, actor, cohort=a[0], filt=a[1], today=now)
    res_b = service.resolve(session, actor, cohort=b[0], filt=b[1], today=now)
    rule = service.rule_for(kind, book)
    with scratch(session) as tables:
        sides = []
        for label, resolved in (("a", res_a), ("b", res_b)):
            members = service.members(tables, resolved, f"cohort_{label}")
            changes = service.outcomes(tables, members, kind, rule, f"changes_{label}")
            sides.append((members, read_side(session, changes, members, tp.key, resolved.dialect)))
        (members_a, data_a), (members_b, data_b) = sides
        shared = int(session.execute(sql.overlap(members_a, members_b)).scalar_one())
    result = _estimates(data_a, data_b, shared, tp.months)
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
    n_a, n_b = data_a.sums.n, data_b.sums.n
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


def _estimates(a: Side, b: Side, shared: int, months: float) -> dict[str, Any]:
    from mesoclinic.analytics import compare as stats_compare

    n_a, n_b = a.sums.n, b.sums.n
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
        ("unadjusted", lambda: stats_compare.compare_unadjusted_from_sums(a.sums, b.sums)),
        ("ancova", lambda: stats_compare.compare_ancova_from_sums(a.sums, b.sums)),
        ("mixed", lambda: _mixed(a, b, months)),
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


def _mixed(a: Side, b: Side, months: float) -> Any:
    """The growth model from both cohorts' patterns, time scaled to run 0..1 over `months`."""
    import numpy as np

    from mesoclinic.analytics import compare as stats_compare
    from mesoclinic.analytics import mixed

    rows = [(0, r) for r in a.patterns] + [(1, r) for r in b.patterns]
    if not rows:
        raise InsufficientData("there are no measurements to compare")

    def column(read: Any) -> np.ndarray:
        return np.array([float(read(r)) for _, r in rows])

    patterns = mixed.patterns_from_totals(
        group=np.array([g for g, _ in rows], dtype=float),
        count=column(lambda r: r["patients"]),
        n=column(lambda r: r["n"]),
        s=column(lambda r: r["m"]) / months,
        ss=column(lambda r: r["mm"]) / months**2,
        c1=np.column_stack([column(lambda r: r["y"]), column(lambda r: r["my"]) / months]),
        c2=np.column_stack(
            [
                column(lambda r: r["y_y"]),
                column(lambda r: r["y_my"]) / months,
                column(lambda r: r["my_my"]) / months**2,
            ]
        ),
        d=float(sum(float(r["yy"]) for _, r in rows)),
    )
    return stats_compare.compare_mixed_from_patterns(patterns, months)


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
