"""Lot safety signal (pure; no database)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from mesoclinic.analytics.signals import lot_rate, lot_signals
from mesoclinic.analytics.stats import clopper_pearson


def product(
    rng: np.random.Generator, rates: list[float], exposures: int
) -> list[tuple[str, int, int]]:
    """One product's lots, each used `exposures` times with its own adverse-event rate."""
    return [
        (f"LOT-{i:03d}", int(rng.binomial(exposures, rate)), exposures)
        for i, rate in enumerate(rates)
    ]


def test_a_planted_bad_lot_is_flagged_and_the_clean_lots_are_not() -> None:
    rng = np.random.default_rng(11)
    found = 0
    clean_flags = 0
    for _ in range(200):
        rows = product(rng, [0.08] + [0.01] * 5, exposures=300)
        signals = lot_signals(rows)
        found += signals[0].flagged
        clean_flags += sum(s.flagged for s in signals[1:])
    assert found >= 190  # 8 % against 1 % over 300 exposures is found nearly every time
    assert clean_flags <= 10


def test_clean_products_are_rarely_flagged_at_all() -> None:
    """Across 1,000 clean products of 6 lots the product-wise false flag rate stays <= alpha."""
    rng = np.random.default_rng(12)
    flagged_products = 0
    for _ in range(1000):
        rate = rng.uniform(0.005, 0.05)
        signals = lot_signals(product(rng, [rate] * 6, exposures=int(rng.integers(50, 400))))
        flagged_products += any(s.flagged for s in signals)
    assert flagged_products / 1000 <= 0.01


def test_p_value_is_the_one_sided_fisher_exact_test_against_the_other_lots() -> None:
    rows = [("A", 9, 120), ("B", 2, 150), ("C", 3, 200)]
    signals = lot_signals(rows)
    table = [[9, 120 - 9], [5, 350 - 5]]
    assert signals[0].p_value == pytest.approx(sps.fisher_exact(table, "greater").pvalue)
    assert signals[0].expected == pytest.approx(120 * 5 / 350)
    assert signals[0].rate == pytest.approx(9 / 120)
    reference = clopper_pearson(9, 120)
    assert signals[0].ci is not None and reference is not None
    assert (signals[0].ci.low, signals[0].ci.high) == pytest.approx((reference.low, reference.high))


def test_rule_states_the_test_and_the_bonferroni_threshold() -> None:
    signals = lot_signals([("A", 1, 100), ("B", 1, 100), ("C", 0, 5), ("D", 0, 100)], alpha=0.01)
    assert all(s.rule == signals[0].rule for s in signals)
    assert "Fisher exact" in signals[0].rule
    assert "p < 0.0033" in signals[0].rule and "over 3 lot(s) with at least 10" in signals[0].rule


def test_a_small_lot_gets_a_rate_but_is_never_flagged() -> None:
    signals = lot_signals([("TINY", 4, 5), ("A", 1, 400), ("B", 2, 400)])
    tiny = signals[0]
    assert tiny.p_value < 0.001 and not tiny.flagged


def test_a_product_with_one_lot_or_an_unused_lot_has_nothing_to_compare() -> None:
    (only,) = lot_signals([("ONLY", 5, 50)])
    assert (only.rate, only.flagged, only.p_value, only.expected) == (0.1, False, 1.0, 0.0)
    reference = clopper_pearson(5, 50)
    assert only.ci is not None and reference is not None
    assert only.ci.low == pytest.approx(reference.low) and only.ci.high == pytest.approx(
        reference.high
    )
    unused = lot_signals([("NEW", 0, 0), ("OLD", 3, 100)])[0]
    assert (unused.rate, unused.ci, unused.flagged, unused.p_value) == (0.0, None, False, 1.0)


def test_no_lots_gives_no_signals() -> None:
    assert lot_signals([]) == []


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("A", 5, 3)], "lot 'A': events must be between 0 and exposures"),
        ([("A", -1, 3)], "lot 'A': events must be between 0 and exposures"),
        ([("A", 1, 3), ("A", 0, 3)], "lot 'A' appears twice"),
    ],
)
def test_impossible_rows_are_refused_in_plain_words(
    rows: list[tuple[str, int, int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        lot_signals(rows)


def test_a_single_rate_for_technique_or_clinician_tables() -> None:
    rate = lot_rate("nappage", 3, 40)
    assert (rate.rate, rate.ci) == (0.075, clopper_pearson(3, 40))
    assert lot_rate("unused", 0, 0).ci is None
