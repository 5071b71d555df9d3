"""Accuracy and speed of the analytics statistics core (mesoclinic.analytics.*), no database.

    PYTHONPATH=src python bench/analytics_stats.py            # 1,000 simulations per figure
    PYTHONPATH=src python bench/analytics_stats.py --runs 200 # quicker

Accuracy, on the seeded simulated cohorts of tests/analytics/simulate.py: for each estimator,
coverage of the true effect by the 95 % interval, the false-positive rate at 5 % with no
effect, and power (share of runs with p < 0.05) at the simulated effect. Lot signal: detection
of a planted 8 % lot among five 1 % lots (300 exposures each) and the product-wise false flag
rate on clean products. Speed (one thread, CPU seconds) at clinic-group scale: 100,000
patients (the mixed model from per-patient sums, as SQL would hand them over; ANCOVA and
propensity on 100,000 rows) and 1,000 lots of one product.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from analytics.simulate import ancova_trial, growth_panel, observational_cohort  # noqa: E402
from mesoclinic.analytics.compare import (  # noqa: E402
    Comparison,
    compare_ancova,
    compare_mixed,
    compare_mixed_from_sums,
    compare_propensity,
    covariate_balance,
)
from mesoclinic.analytics.mixed import sums_from_rows  # noqa: E402
from mesoclinic.analytics.signals import lot_signals  # noqa: E402

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


def accuracy(runs: int) -> None:
    print("estimator   effect  runs  coverage  false-pos  power  s/fit")
    for name, estimator, effect in (
        ("ancova", ancova, 6.0),
        ("mixed", mixed, 9.0),
        ("propensity", propensity, 4.0),
    ):
        rng = np.random.default_rng(101)
        start = time.process_time()
        hits = [estimator(rng, effect) for _ in range(runs)]
        nulls = [estimator(rng, 0.0) for _ in range(runs)]
        per_fit = (time.process_time() - start) / (2 * runs)
        coverage = np.mean([r.ci.low <= effect <= r.ci.high for r in hits])
        false_positive = np.mean([r.p_value < 0.05 for r in nulls])
        power = np.mean([r.p_value < 0.05 for r in hits])
        print(
            f"{name:<11} {effect:>6.1f} {runs:>5} {coverage:>9.3f} {false_positive:>10.3f} "
            f"{power:>6.3f} {per_fit:>6.3f}"
        )


def lot_accuracy(runs: int) -> None:
    rng = np.random.default_rng(202)
    found = clean = 0
    for _ in range(runs):
        rates = [0.08] + [0.01] * 5
        rows = [(f"L{i}", int(rng.binomial(300, r)), 300) for i, r in enumerate(rates)]
        signals = lot_signals(rows)
        found += signals[0].flagged
        clean += any(s.flagged for s in signals[1:])
    false_products = 0
    for _ in range(runs):
        rate = rng.uniform(0.005, 0.05)
        rows = [(f"L{i}", int(rng.binomial(200, rate)), 200) for i in range(6)]
        false_products += any(s.flagged for s in lot_signals(rows))
    print(
        f"lot signal: planted 8 % lot flagged {found / runs:.3f}; a clean lot beside it "
        f"flagged {clean / runs:.3f}; clean products with any flag {false_products / runs:.4f} "
        f"(alpha 0.01, {runs} products each)"
    )


def timed(label: str, work: Callable[[], object]) -> None:
    start = time.process_time()
    work()
    print(f"{label:<58} {time.process_time() - start:7.3f} s")


def speed() -> None:
    rng = np.random.default_rng(303)
    patients = 100_000
    big = growth_panel(rng, 5.0, per_group=patients // 2)
    sums = sums_from_rows(big.patient, big.group.astype(float), big.months / 12, big.value)
    trial = ancova_trial(rng, 5.0, per_group=patients // 2)
    cohort = observational_cohort(rng, 4.0, n=patients)
    lots = [(f"L{i}", int(rng.binomial(300, 0.01)), 300) for i in range(1000)]
    print(f"speed, one thread, CPU seconds ({patients:,} patients)")
    timed(
        "mixed model from per-patient sums (random slope)",
        lambda: compare_mixed_from_sums(sums, 12.0),
    )
    timed(
        f"mixed model from {big.value.size:,} rows (sums in numpy)",
        lambda: compare_mixed(big.patient, big.group, big.months, big.value),
    )
    timed("ANCOVA", lambda: compare_ancova(trial.baseline, trial.follow_up, trial.group))
    timed(
        "propensity (age, sex, stage) + balance",
        lambda: (
            compare_propensity(cohort.change, cohort.group, cohort.covariates),
            covariate_balance(cohort.group, cohort.covariates),
        ),
    )
    timed("lot signal, 1,000 lots of one product", lambda: lot_signals(lots))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    accuracy(args.runs)
    lot_accuracy(args.runs)
    speed()


if __name__ == "__main__":
    main()
