"""Lot safety signal: does one lot's adverse-event rate stand out from the product's other lots?

Called once per product with that product's lots. Each lot is tested against the product's
other lots pooled, by a one-sided Fisher exact test (more events than the other lots' rate
predicts), and the threshold is Bonferroni-corrected over the product's testable lots. Method
and its reasons: docs/analytics-methods.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mesoclinic.analytics.stats import Interval, check_level, clopper_pearson

if TYPE_CHECKING:  # NumPy loads with the first lot report, not with `serve` (issue 18)
    import numpy as np


@dataclass(frozen=True)
class LotRate:
    """Adverse events per exposure of one lot, with an exact (Clopper-Pearson) 95 % interval."""

    lot: str
    events: int
    exposures: int
    rate: float
    ci: Interval | None


@dataclass(frozen=True)
class LotSignal(LotRate):
    """A lot's rate with its test against the product's other lots; `rule` states the test."""

    flagged: bool
    p_value: float
    expected: float  # events expected at the other lots' pooled rate
    rule: str


def lot_rate(lot: str, events: int, exposures: int) -> LotRate:
    """One lot's rate with its exact interval (rate 0 and no interval when never used)."""
    ci = clopper_pearson(events, exposures)
    return LotRate(lot, events, exposures, events / exposures if exposures else 0.0, ci)


def _check_rows(rows: Sequence[tuple[str, int, int]]) -> None:
    seen: set[str] = set()
    for lot, events, exposures in rows:
        if lot in seen:
            raise ValueError(f"lot {lot!r} appears twice; pass each lot once")
        seen.add(lot)
        if exposures < 0 or events < 0 or events > exposures:
            raise ValueError(
                f"lot {lot!r}: events must be between 0 and exposures "
                f"(got events={events}, exposures={exposures}); count exposures with an event"
            )


def lot_signals(
    rows: Sequence[tuple[str, int, int]], alpha: float = 0.01, min_exposures: int = 10
) -> list[LotSignal]:
    """Each lot of one product as (lot, events, exposures), tested against the other lots.

    A lot is flagged when the one-sided Fisher exact p-value is below alpha divided by the
    number of lots with at least `min_exposures` exposures; smaller lots get a rate and a
    p-value but are never flagged.
    """
    import numpy as np
    from scipy import stats as sps

    check_level(1 - alpha)
    _check_rows(rows)
    testable = sum(1 for _, _, exposures in rows if exposures >= min_exposures)
    threshold = alpha / max(testable, 1)
    rule = (
        f"one-sided Fisher exact test against the product's other lots pooled; flagged when "
        f"p < {threshold:.2g} ({alpha:g} Bonferroni-corrected over {testable} lot(s) with at "
        f"least {min_exposures} exposures)"
    )
    if not rows:
        return []
    lots = [r[0] for r in rows]
    events = np.array([r[1] for r in rows], dtype=np.int64)
    exposures = np.array([r[2] for r in rows], dtype=np.int64)
    other_events = events.sum() - events
    other_exposures = exposures.sum() - exposures
    # P(at least `events` of all the product's events fall in this lot), margins fixed: the
    # one-sided Fisher exact test of each lot against the others pooled, for all lots at once.
    p_values = np.clip(sps.hypergeom.sf(events - 1, exposures.sum(), events.sum(), exposures), 0, 1)
    # Nothing to compare with (a lot never used, or the product's only lot): p = 1.
    comparable = (exposures > 0) & (other_exposures > 0)
    p_values = np.where(comparable, p_values, 1.0)
    flagged = comparable & (exposures >= min_exposures) & (p_values < threshold)
    expected = np.divide(
        exposures * other_events,
        other_exposures,
        out=np.zeros(len(rows)),
        where=other_exposures > 0,
    )
    rates = np.divide(events, exposures, out=np.zeros(len(rows)), where=exposures > 0)
    lows, highs = exact_bounds(events, exposures)
    return [
        LotSignal(
            lot=lots[i],
            events=int(events[i]),
            exposures=int(exposures[i]),
            rate=float(rates[i]),
            ci=Interval(float(lows[i]), float(highs[i])) if exposures[i] else None,
            flagged=bool(flagged[i]),
            p_value=float(p_values[i]),
            expected=float(expected[i]),
            rule=rule,
        )
        for i in range(len(rows))
    ]


def exact_bounds(events: np.ndarray, exposures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson 95 % bounds of many lots at once (`clopper_pearson`, vectorised)."""
    import numpy as np
    from scipy import stats as sps

    with np.errstate(all="ignore"):
        low = sps.beta.ppf(0.025, events, exposures - events + 1)
        high = sps.beta.isf(0.025, events + 1, exposures - events)
    return np.where(events == 0, 0.0, low), np.where(events == exposures, 1.0, high)
