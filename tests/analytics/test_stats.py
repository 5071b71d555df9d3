"""Summaries and intervals (pure; no database)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from mesoclinic.analytics.stats import (
    ChangeSummary,
    Interval,
    clopper_pearson,
    summarise_changes,
    summarise_from_moments,
    suppress_small,
    wilson,
)

counts = st.integers(min_value=0, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
levels = st.floats(min_value=0.5, max_value=0.999)
finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)


def test_summary_of_known_values_matches_a_t_interval() -> None:
    summary = summarise_changes([4.0, 8.0, 6.0, 10.0, 2.0])
    half = sps.t.ppf(0.975, 4) * np.std([4, 8, 6, 10, 2], ddof=1) / math.sqrt(5)
    assert summary.n == 5 and summary.mean == 6.0 and summary.median == 6.0
    assert (summary.q1, summary.q3) == (4.0, 8.0)
    assert summary.ci == pytest.approx(Interval(6.0 - half, 6.0 + half))


def test_empty_and_single_value_summaries_say_so_with_none() -> None:
    assert summarise_changes([]) == ChangeSummary(0, None, None, None, None, None)
    one = summarise_changes([3.5])
    assert (one.n, one.mean, one.ci, one.median) == (1, 3.5, None, 3.5)


def test_summary_refuses_a_missing_value_by_name() -> None:
    with pytest.raises(ValueError, match="changes must be finite"):
        summarise_changes([1.0, float("nan")])


@settings(deadline=None)  # no timed assertions: the machine is shared
@given(st.lists(finite, min_size=2, max_size=60), levels)
def test_moments_give_the_same_mean_and_interval_as_the_values(
    values: list[float], level: float
) -> None:
    data = np.asarray(values)
    mean, ci = summarise_from_moments(data.size, float(data.sum()), float((data**2).sum()), level)
    direct = summarise_changes(values, level)
    assert mean == pytest.approx(direct.mean, abs=1e-6)
    assert ci is not None and direct.ci is not None
    assert ci.low <= mean + 1e-9 and mean - 1e-9 <= ci.high
    spread = max(1.0, float(np.abs(data).max()))
    assert ci.low == pytest.approx(direct.ci.low, abs=1e-5 * spread)
    assert ci.high == pytest.approx(direct.ci.high, abs=1e-5 * spread)


def test_moments_of_nothing_and_of_one_value() -> None:
    assert summarise_from_moments(0, 0.0, 0.0) == (None, None)
    assert summarise_from_moments(1, 7.0, 49.0) == (7.0, None)


def test_moments_with_no_variance_give_a_zero_width_interval_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, ci = summarise_from_moments(3, 15.0, 75.0 - 1e-12)
    assert mean == 5.0 and ci == Interval(5.0, 5.0)


@settings(deadline=None)  # no timed assertions: the machine is shared
@given(counts, levels)
def test_wilson_bounds_are_ordered_within_0_1_and_match_statsmodels(
    count: tuple[int, int], level: float
) -> None:
    successes, n = count
    interval = wilson(successes, n, level)
    if n == 0:
        assert interval is None
        return
    assert interval is not None
    assert 0.0 <= interval.low <= successes / n <= interval.high <= 1.0
    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)


@settings(deadline=None)  # no timed assertions: the machine is shared
@given(counts, levels)
def test_clopper_pearson_is_exact_ordered_and_matches_scipy(
    count: tuple[int, int], level: float
) -> None:
    successes, n = count
    interval = clopper_pearson(successes, n, level)
    if n == 0:
        assert interval is None
        return
    assert interval is not None
    assert 0.0 <= interval.low <= successes / n <= interval.high <= 1.0
    reference = sps.binomtest(successes, n).proportion_ci(level, method="exact")
    assert interval.low == pytest.approx(reference.low, abs=1e-9)
    assert interval.high == pytest.approx(reference.high, abs=1e-9)


@settings(deadline=None)  # no timed assertions: the machine is shared
@given(st.integers(min_value=1, max_value=150), st.floats(min_value=0.001, max_value=0.999))
def test_clopper_pearson_covers_the_true_rate_at_least_95_percent_of_the_time(
    n: int, rate: float
) -> None:
    """Exact means conservative: summed over every possible count, coverage >= the level."""
    covered = 0.0
    for successes in range(n + 1):
        interval = clopper_pearson(successes, n)
        assert interval is not None
        if interval.low <= rate <= interval.high:
            covered += float(sps.binom.pmf(successes, n, rate))
    assert covered >= 0.95 - 1e-9


@pytest.mark.parametrize("successes, n", [(-1, 5), (6, 5), (0, -1)])
def test_impossible_counts_are_refused_in_plain_words(successes: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes must be between 0 and n"):
        wilson(successes, n)
    with pytest.raises(ValueError, match="successes must be between 0 and n"):
        clopper_pearson(successes, n)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, float("nan")])
def test_a_level_outside_0_1_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        wilson(1, 2, level)


@pytest.mark.parametrize("n, hidden", [(0, True), (1, True), (4, True), (5, False), (120, False)])
def test_cells_under_five_patients_are_suppressed(n: int, hidden: bool) -> None:
    assert suppress_small(n) is hidden


def test_suppression_threshold_is_a_parameter_and_negative_counts_are_refused() -> None:
    assert suppress_small(9, threshold=10) and not suppress_small(10, threshold=10)
    with pytest.raises(ValueError, match="n must not be negative"):
        suppress_small(-1)
