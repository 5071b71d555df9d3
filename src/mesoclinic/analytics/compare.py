"""Comparisons of two cohorts' outcome changes: unadjusted, ANCOVA, mixed model, propensity.

Every comparison reads "cohort B minus cohort A": `group` holds 0 for a patient (or row) of A
and 1 for B, and `Comparison.difference` is B's change minus A's, in the outcome's units.
Input the data cannot support (a group with fewer than two patients, no variance, a singular
design, no overlap between the groups, a model that does not converge) raises
`InsufficientData` with a plain sentence; malformed input (lengths that differ, NaN, a group
code other than 0/1) raises `ValueError` naming the field. Methods: docs/analytics-methods.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mesoclinic.analytics.mixed import (
    FIXED,
    PatientSums,
    Patterns,
    collapse,
    estimable,
    fit_growth,
    sums_from_rows,
)
from mesoclinic.analytics.propensity import (
    covariate_design,
    propensity_weights,
    quietly,
)
from mesoclinic.analytics.stats import InsufficientData, Interval, check_level, finite_array

# A standardised mean difference above this is conventionally read as a meaningful imbalance.
SMD_IMBALANCE = 0.1


@dataclass(frozen=True)
class Comparison:
    """Difference B minus A in outcome change, with its interval, p-value and group sizes."""

    method: str  # "ancova" | "mixed" | "propensity" | "unadjusted"
    difference: float
    ci: Interval
    p_value: float
    n_a: int
    n_b: int
    note: str = ""


@dataclass(frozen=True)
class Balance:
    """Standardised mean difference (B minus A) of one covariate or category, before and after
    propensity weighting (`smd_after` None when no propensity model could be fitted)."""

    covariate: str
    smd_before: float
    smd_after: float | None


def group_array(group: Sequence[int], n: int | None = None, name: str = "group") -> np.ndarray:
    """The group codes as a 0/1 float array, refusing other codes or a wrong length."""
    try:
        codes = np.asarray(group, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be 0 (cohort A) or 1 (cohort B) for every entry") from error
    if n is not None and codes.size != n:
        raise ValueError(f"{name} must have one entry per value ({codes.size} against {n})")
    if not np.all((codes == 0) | (codes == 1)):
        raise ValueError(f"{name} must be 0 (cohort A) or 1 (cohort B) for every entry")
    return codes


def _require_groups(n_a: int, n_b: int, minimum: int = 2, unit: str = "patients") -> None:
    if n_a < minimum or n_b < minimum:
        raise InsufficientData(
            f"each cohort needs at least {minimum} {unit} with a measurement "
            f"(cohort A has {n_a}, cohort B has {n_b})"
        )


def _estimate(
    method: str, result: Any, index: int, level: float, n_a: int, n_b: int, note: str = ""
) -> Comparison:
    """The Comparison for one coefficient of a fitted statsmodels result."""
    difference = float(result.params[index])
    low, high = (float(v) for v in np.asarray(result.conf_int(alpha=1 - level))[index])
    p_value = float(result.pvalues[index])
    # Residuals that are rounding error (an exact fit) leave no variance to estimate from.
    exact_fit = not float(result.ssr) > 1e-20 * float(result.centered_tss)
    if exact_fit or not all(math.isfinite(v) for v in (difference, low, high, p_value)):
        raise InsufficientData(
            "the outcome has no variance left to estimate an interval from "
            "(every patient changed by the same amount once the model is fitted)"
        )
    return Comparison(method, difference, Interval(low, high), p_value, n_a, n_b, note)


def compare_unadjusted(
    change_a: Sequence[float], change_b: Sequence[float], level: float = 0.95
) -> Comparison:
    """Welch's t: mean change of B minus A, unequal variances, Welch-Satterthwaite df."""
    from scipy import stats as sps

    check_level(level)
    a = finite_array(change_a, "change_a")
    b = finite_array(change_b, "change_b")
    _require_groups(a.size, b.size)
    var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(var_a + var_b)
    if se == 0:
        raise InsufficientData("neither cohort's changes vary, so no interval can be estimated")
    df = (var_a + var_b) ** 2 / (var_a**2 / (a.size - 1) + var_b**2 / (b.size - 1))
    difference = float(b.mean() - a.mean())
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p_value = float(2 * sps.t.sf(abs(difference) / se, df))
    return Comparison(
        "unadjusted", difference, Interval(difference - half, difference + half), p_value,
        int(a.size), int(b.size),
    )  # fmt: skip


@dataclass(frozen=True)
class GroupSums:
    """One cohort's sufficient statistics for the Welch and ANCOVA comparisons, which SQL can
    total: patients, and the sums of baseline x, follow-up y and change c, their squares and
    the cross-product x*y."""

    n: int
    x: float = 0.0
    y: float = 0.0
    c: float = 0.0
    xx: float = 0.0
    yy: float = 0.0
    cc: float = 0.0
    xy: float = 0.0

    @staticmethod
    def of(
        baseline: Sequence[float], follow_up: Sequence[float], change: Sequence[float]
    ) -> GroupSums:
        """The sums of per-patient vectors (what the database totals)."""
        x, y, c = (np.asarray(v, dtype=float) for v in (baseline, follow_up, change))
        return GroupSums(
            int(c.size), float(x.sum()), float(y.sum()), float(c.sum()),
            float(x @ x), float(y @ y), float(c @ c), float(x @ y),
        )  # fmt: skip


def _centred(total_sq: float, total: float, n: int) -> float:
    """The sum of squared deviations from the mean, from the sums; cancellation that leaves
    only rounding error (every value equal) is read as exactly zero."""
    value = total_sq - total * total / n if n else 0.0
    return 0.0 if value <= 1e-12 * abs(total_sq) else value


def compare_unadjusted_from_sums(a: GroupSums, b: GroupSums, level: float = 0.95) -> Comparison:
    """Welch's t from each cohort's n, sum and sum of squares of the change: the same figures
    as `compare_unadjusted` on the vectors, from a few totals."""
    from scipy import stats as sps

    check_level(level)
    _require_groups(a.n, b.n)
    var_a = _centred(a.cc, a.c, a.n) / (a.n - 1) / a.n
    var_b = _centred(b.cc, b.c, b.n) / (b.n - 1) / b.n
    se = math.sqrt(var_a + var_b)
    if se == 0:
        raise InsufficientData("neither cohort's changes vary, so no interval can be estimated")
    df = (var_a + var_b) ** 2 / (var_a**2 / (a.n - 1) + var_b**2 / (b.n - 1))
    difference = b.c / b.n - a.c / a.n
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p_value = float(2 * sps.t.sf(abs(difference) / se, df))
    return Comparison(
        "unadjusted", difference, Interval(difference - half, difference + half), p_value,
        a.n, b.n,
    )  # fmt: skip


def compare_ancova_from_sums(a: GroupSums, b: GroupSums, level: float = 0.95) -> Comparison:
    """ANCOVA (follow-up ~ baseline + group, OLS) from the cohorts' sums: the normal equations
    in deviations from the means, the same estimate, interval and p as `compare_ancova`."""
    from scipy import stats as sps

    check_level(level)
    _require_groups(a.n, b.n)
    n = a.n + b.n
    if n < 5:
        raise InsufficientData(f"ANCOVA needs at least 5 patients in all (has {n})")
    sx, sy = a.x + b.x, a.y + b.y
    sxx = _centred(a.xx + b.xx, sx, n)
    syy = _centred(a.yy + b.yy, sy, n)
    sxy = a.xy + b.xy - sx * sy / n
    share = b.n / n
    sgg = b.n * (1 - share)
    sxg, syg = b.x - sx * share, b.y - sy * share
    cross = np.array([[sxx, sxg], [sxg, sgg]])
    scale = max(float(np.abs(cross).max()), 1e-300)
    if sxx == 0 or np.linalg.matrix_rank(cross / scale, tol=1e-10) < 2:
        raise InsufficientData(
            "every patient has the same baseline, so baseline cannot be adjusted for; "
            "use the unadjusted comparison"
        )
    inverse = np.linalg.inv(cross)
    slope, difference = (float(v) for v in inverse @ np.array([sxy, syg]))
    residual = syy - slope * sxy - difference * syg
    df = n - 3
    # The sums carry rounding error of about 1e-16 of the sum of squares: a residual within
    # that is an exact fit.
    if not residual > 1e-20 * syy or not residual > 1e-10 * (a.yy + b.yy):
        raise InsufficientData(
            "the outcome has no variance left to estimate an interval from "
            "(every patient changed by the same amount once the model is fitted)"
        )
    se = math.sqrt(residual / df * float(inverse[1, 1]))
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p_value = float(2 * sps.t.sf(abs(difference) / se, df))
    return Comparison(
        "ancova", difference, Interval(difference - half, difference + half), p_value, a.n, b.n
    )


def compare_ancova(
    baseline: Sequence[float],
    follow_up: Sequence[float],
    group: Sequence[int],
    level: float = 0.95,
) -> Comparison:
    """ANCOVA by OLS, follow_up ~ baseline + group: the group coefficient is B minus A."""
    from statsmodels.regression.linear_model import OLS

    check_level(level)
    before = finite_array(baseline, "baseline")
    after = finite_array(follow_up, "follow_up")
    if after.size != before.size:
        raise ValueError("follow_up must have one value per baseline value")
    codes = group_array(group, before.size)
    n_b = int(codes.sum())
    n_a = int(codes.size - n_b)
    _require_groups(n_a, n_b)
    if before.size < 5:
        raise InsufficientData(f"ANCOVA needs at least 5 patients in all (has {before.size})")
    design = np.column_stack([np.ones_like(before), before, codes])
    if np.linalg.matrix_rank(design) < 3:
        raise InsufficientData(
            "every patient has the same baseline, so baseline cannot be adjusted for; "
            "use the unadjusted comparison"
        )
    result, _ = quietly(lambda: OLS(after, design).fit())
    return _estimate("ancova", result, 2, level, n_a, n_b)


def compare_mixed(
    patient_ids: Sequence[Hashable],
    group: Sequence[int],
    months: Sequence[float],
    values: Sequence[float],
    level: float = 0.95,
) -> Comparison:
    """Linear mixed model value ~ months * group, random intercept and slope per patient (REML).

    The difference is the interaction (B's slope minus A's) times the last month observed:
    the difference between the cohorts' modelled change from month 0 to the last time point,
    in the outcome's units, comparable with the ANCOVA and propensity estimates. The random
    slope is dropped, and the note says so, when its fit does not converge.
    """
    check_level(level)
    y = finite_array(values, "values")
    t = finite_array(months, "months")
    if t.size != y.size or len(patient_ids) != y.size:
        raise ValueError("patient_ids, group, months and values must have one entry per row")
    codes = group_array(group, y.size)
    if y.size == 0:
        raise InsufficientData("there are no measurements to compare")
    last = float(t.max())
    if t.min() < 0 or last <= 0:
        raise InsufficientData("the mixed model needs months from 0 on and a later time point")
    patients = _patient_codes(patient_ids)
    _patient_groups(patients, codes)
    sums = sums_from_rows(patients, codes, t / last, y)
    return compare_mixed_from_sums(sums, last, level)


def compare_mixed_from_sums(
    sums: PatientSums, last_month: float, level: float = 0.95
) -> Comparison:
    """The mixed-model comparison from per-patient sums (time scaled by `last_month`), so SQL
    can aggregate the rows and only six numbers per patient reach Python (see `mixed.py`)."""
    return compare_mixed_from_patterns(collapse(sums), last_month, level)


def compare_mixed_from_patterns(
    patterns: Patterns, last_month: float, level: float = 0.95
) -> Comparison:
    """The mixed-model comparison from the patients grouped by cohort and times (`Patterns`),
    which SQL can total directly: a few dozen rows reach Python whatever the cohorts' size."""
    from scipy import stats as sps

    check_level(level)
    n_b = int(round(float(np.sum(patterns.count[patterns.group == 1]))))
    n_a = patterns.patients - n_b
    _require_groups(n_a, n_b)
    if patterns.patients <= FIXED:
        raise InsufficientData(
            f"the mixed model needs at least {FIXED + 1} patients (has {patterns.patients})"
        )
    if patterns.rows < FIXED + 2 or not estimable(patterns):
        raise InsufficientData(
            "the mixed model needs both cohorts measured at two or more time points"
        )
    fit = fit_growth(patterns, random_slope=True)
    note = "random intercept and slope per patient"
    if fit is None or not math.isfinite(fit.se):
        fit = fit_growth(patterns, random_slope=False)
        note = "random intercept per patient (a random slope did not converge)"
    if fit is None or not (math.isfinite(fit.estimate) and math.isfinite(fit.se) and fit.se > 0):
        raise InsufficientData(
            "the mixed model could not be fitted: both cohorts need measurements at two or "
            "more time points, and the values must vary"
        )
    half = float(sps.t.ppf(0.5 + level / 2, fit.df)) * fit.se
    p_value = float(2 * sps.t.sf(abs(fit.estimate) / fit.se, fit.df))
    note = f"difference in modelled change from month 0 to month {last_month:g}; {note}"
    ci = Interval(fit.estimate - half, fit.estimate + half)
    return Comparison("mixed", fit.estimate, ci, p_value, n_a, n_b, note)


def _patient_codes(patient_ids: Sequence[Hashable]) -> np.ndarray:
    _, codes = np.unique(np.asarray([str(p) for p in patient_ids]), return_inverse=True)
    return np.asarray(codes).reshape(-1)


def _patient_groups(patients: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each patient's group (0/1), refusing a patient who appears in both cohorts."""
    count = int(patients.max()) + 1
    highest = np.zeros(count)
    lowest = np.ones(count)
    np.maximum.at(highest, patients, codes)
    np.minimum.at(lowest, patients, codes)
    shared = int(np.sum(highest != lowest))
    if shared:
        # A cohort definition can do this (two overlapping filters): say so, as for any other
        # data the model cannot use, rather than treat it as a programming error.
        raise InsufficientData(
            f"{shared} patient(s) are in both cohorts; the mixed model needs each patient in "
            "one cohort only"
        )
    return highest


def compare_propensity(
    change: Sequence[float],
    group: Sequence[int],
    covariates: Mapping[str, Sequence[float | str]],
    level: float = 0.95,
) -> Comparison:
    """Inverse-probability-weighted difference in change, B minus A.

    Logistic propensity of being in B on the covariates (text values one-hot), stabilised
    weights with the propensity bounded to PROPENSITY_BOUNDS, weighted least squares of change
    on group with a heteroscedasticity-robust (HC1) interval.
    """
    from statsmodels.regression.linear_model import WLS

    check_level(level)
    y = finite_array(change, "change")
    codes = group_array(group, y.size)
    n_b = int(codes.sum())
    n_a = int(codes.size - n_b)
    _require_groups(n_a, n_b)
    weights, bounded = propensity_weights(codes, covariate_design(covariates, y.size))
    exog = np.column_stack([np.ones_like(y), codes])
    result, _ = quietly(lambda: WLS(y, exog, weights=weights).fit(cov_type="HC1", use_t=True))
    note = f"propensity on {', '.join(covariates) or 'no covariates'}"
    if bounded:
        note += f"; {bounded} patient(s) had their propensity bounded to 0.05-0.95"
    return _estimate("propensity", result, 1, level, n_a, n_b, note)


def _smd(column: np.ndarray, codes: np.ndarray, weights: np.ndarray | None, scale: float) -> float:
    w = np.ones_like(column) if weights is None else weights
    mean_b = np.average(column[codes == 1], weights=w[codes == 1])
    mean_a = np.average(column[codes == 0], weights=w[codes == 0])
    difference = float(mean_b - mean_a)
    if scale == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / scale


def covariate_balance(
    group: Sequence[int], covariates: Mapping[str, Sequence[float | str]]
) -> list[Balance]:
    """Standardised mean difference (B minus A, over the pooled SD before weighting) of each
    covariate, and of each level of a category, before and after propensity weighting.

    An infinite SMD means the cohorts do not overlap at all on that covariate.
    """
    codes = group_array(group)
    n_b = int(codes.sum())
    _require_groups(int(codes.size - n_b), n_b, minimum=1)
    design = covariate_design(covariates, codes.size)
    try:
        weights: np.ndarray | None = propensity_weights(codes, design)[0]
    except InsufficientData:
        weights = None
    rows = []
    for i, name in enumerate(design.balance_names):
        column = design.balance_columns[:, i]
        variances = [column[codes == g].var(ddof=0) for g in (0, 1)]
        scale = math.sqrt(sum(variances) / 2)
        after = None if weights is None else _smd(column, codes, weights, scale)
        rows.append(Balance(name, _smd(column, codes, None, scale), after))
    return rows


def observational_caveat(comparison: Comparison, balance: Sequence[Balance]) -> str:
    """A plain-language caveat: observational data, the numbers behind it, the worst imbalance."""
    ci = comparison.ci
    parts = [
        "Clinic data is observational: patients were not randomised to either cohort, so "
        f"the difference of {comparison.difference:.1f} (95 % CI {ci.low:.1f} to {ci.high:.1f}, "
        f"{comparison.n_a} against {comparison.n_b} patients) may reflect who received which "
        "treatment, not only the treatment itself."
    ]
    if min(comparison.n_a, comparison.n_b) < 30:
        parts.append(
            f"With only {min(comparison.n_a, comparison.n_b)} patients in the smaller cohort the "
            "estimate is imprecise and easily moved by a few patients."
        )
    if ci.low <= 0 <= ci.high:
        parts.append("The interval includes no difference at all.")
    parts.append(_imbalance_sentence(balance))
    return " ".join(part for part in parts if part)


def _imbalance_sentence(balance: Sequence[Balance]) -> str:
    if not balance:
        return "No covariates were compared, so imbalance between the cohorts is unknown."
    worst = max(balance, key=lambda b: abs(b.smd_before))
    if math.isinf(worst.smd_before):
        return (
            f"The cohorts do not overlap at all on {worst.covariate}: no adjustment can fix that."
        )
    text = f"The largest imbalance is in {worst.covariate} (standardised difference "
    text += f"{worst.smd_before:.2f} before weighting"
    if worst.smd_after is not None:
        text += f", {worst.smd_after:.2f} after"
    text += f"; above {SMD_IMBALANCE} is usually read as a meaningful imbalance)."
    after = [abs(b.smd_after) for b in balance if b.smd_after is not None]
    if after and max(after) > SMD_IMBALANCE:
        text += " Weighting did not balance every covariate."
    return text + " Anything not recorded (adherence, other treatments) is not adjusted for."
