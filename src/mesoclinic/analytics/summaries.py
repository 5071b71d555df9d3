"""Aggregate rows from the database turned into the published figures: means with 95 % CIs
from the sums, quartiles, responder rates with Wilson CIs, and small cells hidden.

Plain values in, plain values out; the statistics themselves live in `stats.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mesoclinic.analytics import stats
from mesoclinic.analytics.cohorts import QUANTILE_KEYS, TIME_POINTS, suppressed
from mesoclinic.analytics.schemas import Interval, TimePointRow

STATUSES = ("measured", "dropped_out", "not_yet_due", "no_value")


@dataclass(frozen=True)
class Moments:
    n: int
    total: float
    total_sq: float
    responders: int | None  # None when no rule judges the kind (or the time point)
    baseline_total: float


def moments_from(row: Mapping[Any, Any]) -> Moments:
    judged = int(row["judged"] or 0)
    return Moments(
        n=int(row["n"]),
        total=float(row["total"] or 0.0),
        total_sq=float(row["total_sq"] or 0.0),
        responders=int(row["responders"] or 0) if judged else None,
        baseline_total=float(row["baseline_total"] or 0.0),
    )


def quantile_from_positions(values: Mapping[int, float], n: int, q: float) -> float | None:
    """The q-quantile of n ordered values given the values at the positions around q*(n-1),
    interpolated linearly as PostgreSQL's percentile_cont does."""
    if n == 0:
        return None
    exact = q * (n - 1)
    low = math.floor(exact)
    if low not in values:
        return None
    high = values.get(low + 1, values[low])
    return values[low] + (high - values[low]) * (exact - low)


def quantiles_from_positions(
    rows: Iterable[tuple[int, int, float]],
) -> dict[str, float | None]:
    """q25, q50 and q75 from SQLite's (position, n, value) rows of one group."""
    values: dict[int, float] = {}
    n = 0
    for position, count, value in rows:
        values[int(position)] = float(value)
        n = int(count)
    return {key: quantile_from_positions(values, n, q) for key, q in QUANTILE_KEYS.items()}


def interval(pair: Any) -> Interval | None:
    """The statistics' interval as the API's, or None when there is none."""
    if pair is None:
        return None
    low, high = float(pair.low), float(pair.high)
    if math.isnan(low) or math.isnan(high):
        return None
    return Interval(low=low, high=high)


def hide(value: int, field: str, hidden: list[str]) -> int | None:
    """A count of patients, or None (its field noted) when it is 1 to 4."""
    if suppressed(value):
        hidden.append(field)
        return None
    return value


def time_point_row(
    key: str,
    cohort_size: int,
    statuses: Mapping[str, int],
    moments: Moments | None,
    cuts: Mapping[str, float | None],
    group: str | None = None,
) -> TimePointRow:
    """One time point's published figures: counts always, statistics only from 5 patients."""
    point = next(p for p in TIME_POINTS if p.key == key)
    hidden: list[str] = []
    n = moments.n if moments else 0
    row: dict[str, Any] = {
        "time_point": key,
        "label": point.label,
        "group": group,
        "cohort": hide(cohort_size, "cohort", hidden),
        "measured": hide(statuses.get("measured", 0), "measured", hidden),
        "n": hide(n, "n", hidden) if key != "baseline" else None,
        "dropped_out": hide(statuses.get("dropped_out", 0), "dropped_out", hidden),
        "not_yet_due": hide(statuses.get("not_yet_due", 0), "not_yet_due", hidden),
        "no_value": hide(statuses.get("no_value", 0), "no_value", hidden),
    }
    if moments is not None and key != "baseline":
        if suppressed(n):
            hidden.extend(["mean_change", "median_change", "responder_rate"])
        elif n:
            row |= _change_figures(moments, cuts, hidden)
    return TimePointRow(**row, suppressed=hidden)


def _change_figures(
    moments: Moments, cuts: Mapping[str, float | None], hidden: list[str]
) -> dict[str, Any]:
    mean, ci = stats.summarise_from_moments(moments.n, moments.total, moments.total_sq)
    figures: dict[str, Any] = {
        "mean_change": mean,
        "mean_change_ci": interval(ci),
        "median_change": cuts.get("q50"),
        "q1_change": cuts.get("q25"),
        "q3_change": cuts.get("q75"),
    }
    mean_baseline = moments.baseline_total / moments.n
    if mean_baseline and mean is not None:
        figures["percent_change"] = 100.0 * mean / mean_baseline
    if moments.responders is not None:
        figures |= responder_figures(moments.responders, moments.n, hidden)
    return figures


def responder_figures(responders: int, n: int, hidden: list[str]) -> dict[str, Any]:
    """Responders, their rate and Wilson CI; the count and the rate it would reveal are hidden
    when 1 to 4 patients responded."""
    if suppressed(responders):
        hidden.extend(["responders", "responder_rate"])
        return {}
    return {
        "responders": responders,
        "responder_rate": responders / n,
        "responder_ci": interval(stats.wilson(responders, n)),
    }


def status_counts(
    rows: Iterable[Mapping[Any, Any]], keys: Sequence[str]
) -> dict[Any, dict[str, int]]:
    """{(time point, *group): {status: patients}} from the follow-up status query."""
    counts: dict[Any, dict[str, int]] = {}
    for row in rows:
        key = (row["tp"], *(row[k] for k in keys))
        counts.setdefault(key, {})[row["status"]] = int(row["patients"])
    return counts
