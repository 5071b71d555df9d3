"""Summaries and intervals for cohort outcomes: plain numbers in, frozen dataclasses out.

Nothing here touches the database. The cohort queries aggregate in SQL (count, sum, sum of
squares) and finish here with `summarise_from_moments`; small cohorts may pass the raw changes
to `summarise_changes`. Methods and their reasons: docs/analytics-methods.md.

Degenerate input never raises a numpy warning: a summary of too few values has `None` fields
(n=0: no mean; n<2: no interval), and the comparison functions raise `InsufficientData` with a
sentence a clinician can read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy loads with the first figure computed, not with `serve` (issue 18)
    import numpy as np


class InsufficientData(ValueError):
    """The data cannot support the estimate asked for; the message says why, in plain words."""


@dataclass(frozen=True)
class Interval:
    """A confidence interval, low <= high."""

    low: float
    high: float


@dataclass(frozen=True)
class ChangeSummary:
    """One time point of one cohort: n, mean change with its t-interval, median and quartiles."""

    n: int
    mean: float | None
    ci: Interval | None
    median: float | None
    q1: float | None
    q3: float | None
    sd: float | None = None


def check_level(level: float) -> float:
    """The confidence level, refused unless strictly between 0 and 1."""
    if not 0.0 < level < 1.0 or math.isnan(level):
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    return level


def finite_array(values: Sequence[float], name: str) -> np.ndarray:
    """The values as a float array, refusing NaN and infinity by name."""
    import numpy as np

    try:
        array = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numbers") from error
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers (found a missing or infinite value)")
    return array


def t_interval(mean: float, sd: float, n: int, level: float) -> Interval:
    """mean +- t(n-1) * sd / sqrt(n); n must be at least 2."""
    from scipy import stats as sps

    half = float(sps.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean - half, mean + half)


def summarise_changes(changes: Sequence[float], level: float = 0.95) -> ChangeSummary:
    """n, mean with a Student t interval, median and quartiles of one cohort's changes."""
    import numpy as np

    check_level(level)
    values = finite_array(changes, "changes")
    n = int(values.size)
    if n == 0:
        return ChangeSummary(n=0, mean=None, ci=None, median=None, q1=None, q3=None)
    mean = float(values.mean())
    q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
    if n < 2:
        return ChangeSummary(n=n, mean=mean, ci=None, median=median, q1=q1, q3=q3)
    sd = float(values.std(ddof=1))
    ci = t_interval(mean, sd, n, level)
    return ChangeSummary(n=n, mean=mean, ci=ci, median=median, q1=q1, q3=q3, sd=sd)


def summarise_from_moments(
    n: int, total: float, total_sq: float, level: float = 0.95
) -> tuple[float | None, Interval | None]:
    """Mean and t-interval from count, sum and sum of squares (what SQL aggregates cheaply).

    The variance is (total_sq - total**2 / n) / (n - 1), floored at 0 against rounding; this
    cancels badly only when the mean is huge against the spread, which changes in hairs/cm2,
    microns or counts never are. n=0 gives (None, None); n=1 gives (mean, None).
    """
    check_level(level)
    if n < 0:
        raise ValueError(f"n must not be negative (got {n})")
    n, total, total_sq = int(n), float(total), float(total_sq)  # numpy scalars in, floats out
    if not (math.isfinite(total) and math.isfinite(total_sq)):
        raise ValueError("total and total_sq must be finite numbers")
    if n == 0:
        return None, None
    mean = total / n
    if n < 2:
        return mean, None
    variance = max((total_sq - total * total / n) / (n - 1), 0.0)
    return mean, t_interval(mean, math.sqrt(variance), n, level)


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"successes must be between 0 and n (got successes={successes}, n={n})")


def wilson(successes: int, n: int, level: float = 0.95) -> Interval | None:
    """Wilson score interval for a proportion; None when n is 0."""
    from scipy import stats as sps

    check_level(level)
    _check_counts(successes, n)
    if n == 0:
        return None
    z = float(sps.norm.ppf(0.5 + level / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # Clamp the rounding at the ends: x=0 gives low exactly 0, x=n high exactly 1.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


def clopper_pearson(successes: int, n: int, level: float = 0.95) -> Interval | None:
    """Exact (Clopper-Pearson) interval for a proportion from the beta quantiles; None when n=0."""
    from scipy import stats as sps

    check_level(level)
    _check_counts(successes, n)
    if n == 0:
        return None
    tail = (1 - level) / 2
    low = 0.0 if successes == 0 else float(sps.beta.ppf(tail, successes, n - successes + 1))
    high = 1.0 if successes == n else float(sps.beta.isf(tail, successes + 1, n - successes))
    return Interval(low, high)


def suppress_small(n: int, threshold: int = 5) -> bool:
    """True when a cell counts fewer than `threshold` patients (zero too) and must be hidden."""
    if n < 0:
        raise ValueError(f"n must not be negative (got {n})")
    return n < threshold
