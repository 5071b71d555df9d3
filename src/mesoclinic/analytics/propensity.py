"""The propensity model behind the weighted comparison and the balance table (pure).

Covariates become design columns (numbers as they are, text one-hot), a logistic model gives
each patient's propensity of being in cohort B, and stabilised inverse-probability weights
follow. Methods: docs/analytics-methods.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np

from mesoclinic.analytics.stats import InsufficientData, finite_array

T = TypeVar("T")

# Propensity scores are bounded to this range before weighting (each raw weight is capped at
# 1 / 0.05 = 20), so a handful of near-certain patients cannot carry the estimate.
PROPENSITY_BOUNDS = (0.05, 0.95)


def quietly(fit: Callable[[], T]) -> tuple[T, list[str]]:
    """Run a model fit with its warnings captured as messages instead of printed."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        result = fit()
    return result, [str(w.message) for w in caught]


@dataclass(frozen=True)
class Design:
    """Covariates as numeric columns: numbers as they are, categories one-hot."""

    names: list[str]  # one per column
    columns: np.ndarray  # n x k, reference level of each category dropped
    balance_names: list[str]  # one per balance column
    balance_columns: np.ndarray  # n x m, every level of a category with 3+ levels


def covariate_design(covariates: Mapping[str, Sequence[float | str]], n: int) -> Design:
    """The covariates as design columns; a covariate with text values is a category."""
    names: list[str] = []
    columns: list[np.ndarray] = []
    balance_names: list[str] = []
    balance: list[np.ndarray] = []
    for name, raw in covariates.items():
        if len(raw) != n:
            raise ValueError(f"covariate {name!r} must have one value per patient")
        if any(isinstance(v, str) for v in raw):
            text = ["missing" if v is None else str(v) for v in raw]  # unrecorded: a level
            levels = sorted(set(text))
            indicators = [(np.asarray([t == lv for t in text], dtype=float), lv) for lv in levels]
            names += [f"{name}={lv}" for _, lv in indicators[1:]]
            columns += [col for col, _ in indicators[1:]]
            shown = indicators[1:] if len(levels) == 2 else indicators
            balance_names += [f"{name}={lv}" for _, lv in shown]
            balance += [col for col, _ in shown]
        else:
            missing = sum(1 for v in raw if v is None or v != v)  # None or NaN
            if missing:
                raise InsufficientData(
                    f"{name} is not recorded for {missing} patient(s); the propensity model "
                    "needs it for every patient"
                )
            column = finite_array(cast(Sequence[float], raw), f"covariate {name!r}")
            names.append(name)
            columns.append(column)
            balance_names.append(name)
            balance.append(column)
    return Design(names, _stack(columns, n), balance_names, _stack(balance, n))


def _stack(columns: list[np.ndarray], n: int) -> np.ndarray:
    return np.column_stack(columns) if columns else np.empty((n, 0))


def propensity_weights(codes: np.ndarray, design: Design) -> tuple[np.ndarray, int]:
    """Stabilised inverse-probability weights from a logistic propensity model, and how many
    patients had their propensity bounded to PROPENSITY_BOUNDS."""
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    keep = [i for i in range(design.columns.shape[1]) if np.ptp(design.columns[:, i]) > 0]
    x = design.columns[:, keep]
    if x.shape[1]:
        x = (x - x.mean(axis=0)) / x.std(axis=0)  # scale only: the fitted scores do not change
    exog = np.column_stack([np.ones(codes.size), x])
    if codes.size <= exog.shape[1] + 1 or np.linalg.matrix_rank(exog) < exog.shape[1]:
        raise InsufficientData(
            "too few patients, or covariates that repeat each other, for a propensity model"
        )
    try:
        result, messages = quietly(lambda: Logit(codes, exog).fit(disp=0, maxiter=100))
    except (np.linalg.LinAlgError, ValueError, PerfectSeparationError) as error:
        raise InsufficientData(f"the propensity model could not be fitted ({error})") from error
    with np.errstate(all="ignore"):  # exp overflow is a score of 0 or 1: bounded below
        score = np.asarray(result.predict(exog), dtype=float)
    trouble = any("separation" in m.lower() or "converge" in m.lower() for m in messages)
    if trouble or not np.all(np.isfinite(score)):
        raise InsufficientData(
            "the covariates separate the cohorts completely (no overlap), so no propensity "
            "adjustment is possible"
        )
    bounded = np.clip(score, *PROPENSITY_BOUNDS)
    share = codes.mean()
    weights = np.where(codes == 1, share / bounded, (1 - share) / (1 - bounded))
    return weights, int(np.sum(bounded != score))
