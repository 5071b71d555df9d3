"""Cohort comparisons, balance and the caveat (pure; no database)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.regression.linear_model import OLS
from statsmodels.regression.mixed_linear_model import MixedLM

from analytics.simulate import growth_panel, observational_cohort
from mesoclinic.analytics.compare import (
    Balance,
    Comparison,
    compare_ancova,
    compare_mixed,
    compare_mixed_from_sums,
    compare_propensity,
    compare_unadjusted,
    covariate_balance,
    observational_caveat,
)
from mesoclinic.analytics.mixed import sums_from_rows
from mesoclinic.analytics.stats import InsufficientData, Interval


@pytest.fixture(autouse=True)
def no_warnings() -> Iterator[None]:
    """Degenerate input must give a result or InsufficientData, never a numpy warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_welch_matches_scipy_and_reads_b_minus_a() -> None:
    a, b = [3.0, 5.0, 4.0, 6.0, 2.0], [9.0, 12.0, 7.0, 10.0, 11.0, 8.0]
    result = compare_unadjusted(a, b)
    reference = sps.ttest_ind(b, a, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result.method == "unadjusted" and (result.n_a, result.n_b) == (5, 6)
    assert result.difference == pytest.approx(np.mean(b) - np.mean(a))
    assert result.p_value == pytest.approx(reference.pvalue)
    assert (result.ci.low, result.ci.high) == pytest.approx((interval.low, interval.high))


def test_ancova_is_the_group_coefficient_of_ols_on_baseline() -> None:
    rng = np.random.default_rng(1)
    group = np.repeat([0, 1], 12)
    baseline = rng.normal(140, 20, 24)
    follow_up = 10 + 0.95 * baseline + 5 * group + rng.normal(0, 5, 24)
    result = compare_ancova(baseline, follow_up, group)
    design = np.column_stack([np.ones(24), baseline, group])
    fit = OLS(follow_up, design).fit()
    assert result.difference == pytest.approx(fit.params[2])
    assert result.p_value == pytest.approx(fit.pvalues[2])
    assert (result.ci.low, result.ci.high) == pytest.approx(tuple(fit.conf_int()[2]))


@pytest.mark.parametrize("slope_sd", [6.0, 0.0])
def test_mixed_model_agrees_with_statsmodels_mixedlm(slope_sd: float) -> None:
    """Our REML from per-patient sums fits the model statsmodels' MixedLM fits."""
    rng = np.random.default_rng(17)
    panel = growth_panel(rng, 5.0, per_group=25)
    result = compare_mixed(panel.patient, panel.group, panel.months, panel.value)
    s = panel.months / 12.0
    exog = np.column_stack([np.ones_like(s), s, panel.group, s * panel.group])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = MixedLM(
            panel.value, exog, groups=panel.patient, exog_re=np.column_stack([np.ones_like(s), s])
        ).fit(reml=True, method="lbfgs")
    assert "random intercept and slope" in result.note and "month 12" in result.note
    assert result.difference == pytest.approx(reference.params[3], abs=0.01)
    half = result.ci.high - result.difference
    assert half / sps.t.ppf(0.975, 50 - 4) == pytest.approx(reference.bse[3], rel=0.01)


def test_mixed_model_from_sql_style_sums_equals_the_row_version() -> None:
    panel = growth_panel(np.random.default_rng(3), 4.0)
    rows = compare_mixed(panel.patient, panel.group, panel.months, panel.value)
    sums = sums_from_rows(panel.patient, panel.group.astype(float), panel.months / 12, panel.value)
    from_sums = compare_mixed_from_sums(sums, 12.0)
    assert (from_sums.n_a, from_sums.n_b, from_sums.note) == (rows.n_a, rows.n_b, rows.note)
    # Only the order patients are summed in differs (text ids sort "10" before "2").
    assert from_sums.difference == pytest.approx(rows.difference, abs=1e-4)
    assert from_sums.ci.low == pytest.approx(rows.ci.low, abs=1e-3)


def test_mixed_model_accepts_text_patient_ids_and_refuses_a_patient_in_both_cohorts() -> None:
    panel = growth_panel(np.random.default_rng(4), 4.0)
    ids = [f"patient-{p}" for p in panel.patient]
    result = compare_mixed(ids, panel.group, panel.months, panel.value)
    assert result.n_a == result.n_b == 20
    group = panel.group.copy()
    group[0] = 1 - group[0]
    with pytest.raises(ValueError, match="group must be the same on every row of a patient"):
        compare_mixed(ids, group, panel.months, panel.value)


def test_mixed_model_with_only_baselines_says_why() -> None:
    with pytest.raises(InsufficientData, match="later time point"):
        compare_mixed([1, 2, 3, 4], [0, 0, 1, 1], [0, 0, 0, 0], [150.0, 140.0, 160.0, 130.0])


def test_mixed_model_with_one_cohort_never_followed_up_says_why() -> None:
    patients = [1, 1, 2, 2, 3, 4]
    with pytest.raises(InsufficientData, match="two or more time points"):
        compare_mixed(patients, [0, 0, 0, 0, 1, 1], [0, 6, 0, 6, 0, 0], [1.0, 3, 2, 5, 4, 2])


def test_propensity_recovers_the_effect_the_crude_difference_misses() -> None:
    cohort = observational_cohort(np.random.default_rng(8), 4.0, n=2000)
    adjusted = compare_propensity(cohort.change, cohort.group, cohort.covariates)
    crude = compare_unadjusted(cohort.change[cohort.group == 0], cohort.change[cohort.group == 1])
    assert adjusted.ci.low <= 4.0 <= adjusted.ci.high
    assert not crude.ci.low <= 4.0 <= crude.ci.high
    assert adjusted.note.startswith("propensity on age, sex, stage")


def test_propensity_with_no_overlap_says_so() -> None:
    change = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    group = [0, 0, 0, 0, 1, 1, 1, 1]
    age = [30.0, 31.0, 32.0, 33.0, 60.0, 61.0, 62.0, 63.0]
    with pytest.raises(InsufficientData, match="no overlap"):
        compare_propensity(change, group, {"age": age})


def test_covariate_balance_shows_imbalance_before_and_balance_after_weighting() -> None:
    cohort = observational_cohort(np.random.default_rng(9), 0.0, n=1500)
    rows = {b.covariate: b for b in covariate_balance(cohort.group, cohort.covariates)}
    assert set(rows) == {"age", "sex=M", "stage=I", "stage=II", "stage=III"}
    assert rows["age"].smd_before > 0.2 and rows["stage=III"].smd_before > 0.1
    assert all(b.smd_after is not None and abs(b.smd_after) < 0.1 for b in rows.values())


def test_balance_of_a_hand_computed_covariate() -> None:
    rows = covariate_balance([0, 0, 1, 1], {"age": [20.0, 30.0, 40.0, 50.0]})
    # means 25 and 45, SD 5 in each group (population SD) -> SMD 20 / 5 = 4.
    assert rows[0].covariate == "age" and rows[0].smd_before == pytest.approx(4.0)


def test_balance_without_overlap_is_infinite_and_has_no_after() -> None:
    rows = covariate_balance([0, 0, 1, 1], {"sex": ["F", "F", "M", "M"]})
    assert rows == [Balance("sex=M", math.inf, None)]


def test_caveat_states_observational_n_and_the_worst_imbalance() -> None:
    comparison = Comparison("propensity", 4.2, Interval(-0.5, 8.9), 0.08, 18, 40)
    balance = [Balance("age", 0.12, 0.03), Balance("stage=III", -0.41, 0.08)]
    text = observational_caveat(comparison, balance)
    assert "observational" in text and "18 against 40 patients" in text
    assert "only 18 patients in the smaller cohort" in text
    assert "includes no difference" in text
    assert "stage=III" in text and "-0.41 before weighting, 0.08 after" in text


def test_caveat_without_covariates_says_imbalance_is_unknown() -> None:
    comparison = Comparison("ancova", 5.0, Interval(2.0, 8.0), 0.001, 80, 90)
    text = observational_caveat(comparison, [])
    assert "imbalance between the cohorts is unknown" in text
    assert "smaller cohort" not in text and "includes no difference" not in text


@pytest.mark.parametrize(
    "call",
    [
        lambda: compare_unadjusted([1.0], [2.0, 3.0]),
        lambda: compare_unadjusted([], []),
        lambda: compare_ancova([1.0, 2.0], [1.0, 2.0], [0, 0]),
        lambda: compare_propensity([1.0, 2.0, 3.0], [1, 1, 1], {"age": [1.0, 2.0, 3.0]}),
        lambda: compare_mixed([], [], [], []),
    ],
    ids=["one-patient", "empty", "one-cohort-empty", "propensity-one-cohort", "mixed-empty"],
)
def test_too_few_patients_raise_insufficient_data_in_plain_words(call: object) -> None:
    with pytest.raises(InsufficientData, match=r"cohort|measurements"):
        call()  # type: ignore[operator]


def test_no_variance_raises_insufficient_data() -> None:
    with pytest.raises(InsufficientData, match="vary"):
        compare_unadjusted([2.0, 2.0, 2.0], [5.0, 5.0])
    with pytest.raises(InsufficientData, match="no variance"):
        compare_ancova(
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0, 5.0, 6.0, 7.0], [0, 0, 0, 1, 1, 1]
        )


def test_singular_ancova_design_says_to_use_the_unadjusted_comparison() -> None:
    with pytest.raises(InsufficientData, match="same baseline"):
        compare_ancova([5.0] * 6, [1.0, 2.0, 4.0, 6.0, 7.0, 9.0], [0, 0, 0, 1, 1, 1])


def test_malformed_input_names_the_field() -> None:
    with pytest.raises(ValueError, match="group must be 0"):
        compare_ancova([1.0] * 6, [1.0] * 6, [0, 1, 2, 0, 1, 0])
    with pytest.raises(ValueError, match="follow_up must have one value per baseline"):
        compare_ancova([1.0] * 6, [1.0] * 5, [0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="change_b must be finite"):
        compare_unadjusted([1.0, 2.0], [1.0, float("inf")])
    with pytest.raises(ValueError, match="covariate 'age' must have one value per patient"):
        compare_propensity([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1], {"age": [1.0]})
    with pytest.raises(ValueError, match="covariate 'age' must be finite"):
        compare_propensity([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1], {"age": [1.0, None, 3.0, 4.0]})  # type: ignore[list-item]
    with pytest.raises(ValueError, match="group must be 0"):
        compare_ancova([1.0] * 5, [1.0] * 5, ["a"] * 5)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="values must be numbers"):
        compare_mixed([1, 2], [0, 1], [0.0, 3.0], ["high", "low"])  # type: ignore[list-item]
