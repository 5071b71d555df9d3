"""Lot safety signal: does one lot's adverse-event rate stand out from the product's other lots?

Called once per product with that product's lots. Each lot is tested against the product's
other lots pooled, by a one-sided Fisher exact test (more events than the other lots' rate
predicts), and the threshold is Bonferroni-corrected over the product's testable lots. Method
and its reasons: docs/analytics-methods.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

from mesoclinic.analytics.stats import Interval, check_level, clopper_pearson


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
    check_level(1 - alpha)
    _check_rows(rows)
    testable = sum(1 for _, _, exposures in rows if exposures >= min_exposures)
    threshold = alpha / max(testable, 1)
    rule = (
        f"one-sided Fisher exact test against the product's other lots pooled; flagged when "
        f"p < {threshold:.2g} ({alpha:g} Bonferroni-corrected over {testable} lot(s) with at "
        f"least {min_exposures} exposures)"
    )
    total_events = sum(r[1] for r in rows)
    total_exposures = sum(r[2] for r in rows)
    return [
        _signal(
            lot, events, exposures, total_events, total_exposures, threshold, min_exposures, rule
        )
        for lot, events, exposures in rows
    ]


def _signal(
    lot: str,
    events: int,
    exposures: int,
    total_events: int,
    total_exposures: int,
    threshold: float,
    min_exposures: int,
    rule: str,
) -> LotSignal:
    rate = lot_rate(lot, events, exposures)
    other_events = total_events - events
    other_exposures = total_exposures - exposures
    expected = exposures * other_events / other_exposures if other_exposures else 0.0
    if exposures == 0 or other_exposures == 0:
        # Nothing to compare with (a lot never used, or the product's only lot).
        return LotSignal(**vars(rate), flagged=False, p_value=1.0, expected=expected, rule=rule)
    # P(at least `events` of all the product's events fall in this lot), margins fixed: the
    # one-sided Fisher exact test of this lot against the others pooled.
    p_value = float(sps.hypergeom.sf(events - 1, total_exposures, total_events, exposures))
    p_value = min(max(p_value, 0.0), 1.0)
    flagged = exposures >= min_exposures and p_value < threshold
    return LotSignal(**vars(rate), flagged=flagged, p_value=p_value, expected=expected, rule=rule)
