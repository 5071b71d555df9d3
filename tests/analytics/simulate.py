"""Seeded simulated cohorts with a known effect, for the estimator tests (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MONTHS = (0.0, 3.0, 6.0, 12.0)


@dataclass(frozen=True)
class Trial:
    baseline: np.ndarray
    follow_up: np.ndarray
    group: np.ndarray


def ancova_trial(rng: np.random.Generator, effect: float, per_group: int = 30) -> Trial:
    """Density at baseline and 6 months; cohort B gains `effect` hairs/cm2 more than A."""
    group = np.repeat([0, 1], per_group)
    baseline = rng.normal(150.0, 25.0, group.size)
    follow_up = 20.0 + 0.9 * baseline + effect * group + rng.normal(0.0, 8.0, group.size)
    return Trial(baseline, follow_up, group)


@dataclass(frozen=True)
class Panel:
    patient: np.ndarray
    group: np.ndarray
    months: np.ndarray
    value: np.ndarray


def growth_panel(rng: np.random.Generator, effect: float, per_group: int = 20) -> Panel:
    """Densities at 0, 3, 6 and 12 months with a random level and slope per patient; cohort B's
    12-month change is `effect` larger; about 10 % of follow-up visits are missed."""
    patients = 2 * per_group
    group = np.repeat([0, 1], per_group)
    level = rng.normal(150.0, 20.0, patients)
    change_12 = rng.normal(8.0, 6.0, patients) + effect * group
    months = np.tile(MONTHS, patients)
    patient = np.repeat(np.arange(patients), len(MONTHS))
    value = level[patient] + change_12[patient] * months / 12.0
    value = value + rng.normal(0.0, 4.0, value.size)
    kept = (months == 0) | (rng.random(value.size) > 0.1)
    return Panel(patient[kept], group[patient][kept], months[kept], value[kept])


@dataclass(frozen=True)
class Observational:
    change: np.ndarray
    group: np.ndarray
    covariates: dict[str, list[float] | list[str]]


def observational_cohort(rng: np.random.Generator, effect: float, n: int = 160) -> Observational:
    """Older, male and later-stage patients more often chose B and also gain less, so the
    unadjusted difference is biased; the true effect of B is `effect`."""
    age = rng.normal(42.0, 11.0, n)
    male = rng.random(n) < 0.5
    stage = rng.choice(np.array(["I", "II", "III"]), n, p=[0.4, 0.4, 0.2])
    late = (stage == "III").astype(float)
    logit = -0.3 + 0.04 * (age - 42.0) + 0.5 * male + 0.8 * late
    group = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    change = 12.0 - 0.15 * (age - 42.0) - 3.0 * male - 5.0 * late + effect * group
    change = change + rng.normal(0.0, 6.0, n)
    sex = np.where(male, "M", "F")
    covariates: dict[str, list[float] | list[str]] = {
        "age": age.tolist(),
        "sex": sex.tolist(),
        "stage": stage.tolist(),
    }
    return Observational(change, group, covariates)
