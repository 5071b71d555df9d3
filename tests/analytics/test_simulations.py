"""Estimators on seeded simulated cohorts with a known effect (pure; no database).

Each estimator's 95 % interval must contain the true effect in 90-99 % of simulations (the
binomial spread of 200 runs at 95 % is about 1.5 points), the test at 5 % must reject a zero
effect in at most 9 % of runs, and it must find the real effect often enough to be of use.
The mixed model runs 100 simulations of each kind instead of 200 (about 0.05 s per fit);
its bounds are widened to 88-100 % to keep the same binomial tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sps

from analytics.simulate import ancova_trial, growth_panel, observational_cohort
from mesoclinic.analytics.compare import (
    Comparison,
    compare_ancova,
    compare_mixed,
    compare_propensity,
    compare_unadjusted,
)
from mesoclinic.analytics.stats import summarise_changes, summarise_from_moments, wilson

Estimator = Callable[[np.random.Generator, float], Comparison]


def ancova(rng: np.random.Generator, effect: float) -> Comparison:
    trial = ancova_trial(rng, effect)
    return compare_ancova(trial.baseline, trial.follow_up, trial.group)


def mixed(rng: np.random.Generator, effect: float) -> Comparison:
    panel = growth_panel(rng, effect)
    return compare_mixed(panel.patient, panel.group, panel.months, panel.value)


def propensity(rng: np.random.Generator, effect: float) -> Comparison:
    cohort = observational_cohort(rng, effect)
    return compare_propensity(cohort.change, cohort.group, cohort.covariates)


def run(estimator: Estimator, effect: float, runs: int, seed: int) -> list[Comparison]:
    rng = np.random.default_rng(seed)
    return [estimator(rng, effect) for _ in range(runs)]


CASES = [
    pytest.param(ancova, 6.0, 200, (0.90, 0.99), id="ancova"),
    pytest.param(mixed, 9.0, 100, (0.88, 1.0), id="mixed"),
    pytest.param(propensity, 4.0, 200, (0.90, 0.99), id="propensity"),
]


@pytest.mark.parametrize("estimator, effect, runs, bounds", CASES)
def test_interval_contains_the_true_effect_about_95_percent_of_the_time(
    estimator: Estimator, effect: float, runs: int, bounds: tuple[float, float]
) -> None:
    results = run(estimator, effect, runs, seed=13)
    coverage = np.mean([r.ci.low <= effect <= r.ci.high for r in results])
    assert bounds[0] <= coverage <= bounds[1], coverage
    # Not merely wide: the real effect is found in most runs, and the estimate is unbiased.
    assert np.mean([r.p_value < 0.05 for r in results]) >= 0.6
    estimates = np.array([r.difference for r in results])
    assert abs(estimates.mean() - effect) < 3 * estimates.std() / math.sqrt(runs)


@pytest.mark.parametrize("estimator, effect, runs, bounds", CASES)
def test_no_effect_is_reported_as_significant_in_about_5_percent_of_runs(
    estimator: Estimator, effect: float, runs: int, bounds: tuple[float, float]
) -> None:
    results = run(estimator, 0.0, runs, seed=29)
    false_positive = np.mean([r.p_value < 0.05 for r in results])
    assert false_positive <= 0.09 + (0.02 if runs < 200 else 0.0), false_positive
    # p < 0.05 exactly when the 95 % interval excludes zero (one consistent test).
    assert all((r.p_value < 0.05) == (not r.ci.low <= 0 <= r.ci.high) for r in results)


def test_the_unadjusted_difference_is_biased_where_propensity_is_not() -> None:
    """The simulated confounding is real: ignoring it misses the truth far more often."""
    rng = np.random.default_rng(41)
    missed = 0
    for _ in range(100):
        cohort = observational_cohort(rng, 4.0)
        crude = compare_unadjusted(
            cohort.change[cohort.group == 0], cohort.change[cohort.group == 1]
        )
        missed += not crude.ci.low <= 4.0 <= crude.ci.high
    assert missed >= 20  # an unbiased interval would miss about 5 of 100


def test_change_summary_interval_covers_the_true_mean() -> None:
    rng = np.random.default_rng(5)
    hits = [
        (ci := summarise_changes(rng.normal(10.0, 7.0, 25)).ci) is not None
        and ci.low <= 10.0 <= ci.high
        for _ in range(400)
    ]
    assert 0.92 <= np.mean(hits) <= 0.98


def test_wilson_interval_covers_a_responder_rate() -> None:
    rng = np.random.default_rng(6)
    hits = [
        (ci := wilson(int(rng.binomial(60, 0.35)), 60)) is not None and ci.low <= 0.35 <= ci.high
        for _ in range(400)
    ]
    assert 0.92 <= np.mean(hits) <= 0.98


# Published: dutasteride mesotherapy pilot (Abdallah), +7.9 hairs at week 12, 95 % CI 7.1-8.7
# (docs/clinical-sources.md#analytics-sanity-checks). The summary gives no n or SD; we assume
# 30 patients and take the SD the published interval implies for that n.
PUBLISHED_MEAN, PUBLISHED_CI = 7.9, (7.1, 8.7)
ASSUMED_N = 30


def test_a_cohort_built_from_a_published_mean_change_reproduces_it() -> None:
    half = (PUBLISHED_CI[1] - PUBLISHED_CI[0]) / 2
    sd = half * math.sqrt(ASSUMED_N) / sps.t.ppf(0.975, ASSUMED_N - 1)
    changes = np.random.default_rng(2022).normal(PUBLISHED_MEAN, sd, ASSUMED_N)
    summary = summarise_changes(changes)
    assert summary.ci is not None and summary.mean is not None
    assert summary.ci.low <= PUBLISHED_MEAN <= summary.ci.high
    # The interval's width follows the sample SD: within the chi-square 99.8 % range.
    ratio = (summary.ci.high - summary.ci.low) / (2 * half)
    spread = sps.chi2.ppf([0.001, 0.999], ASSUMED_N - 1) / (ASSUMED_N - 1)
    assert math.sqrt(spread[0]) <= ratio <= math.sqrt(spread[1])
    # The SQL path (count, sum, sum of squares) gives the same figures.
    mean, ci = summarise_from_moments(changes.size, changes.sum(), (changes**2).sum())
    assert mean == pytest.approx(summary.mean) and ci is not None
    assert (ci.low, ci.high) == pytest.approx((summary.ci.low, summary.ci.high))
