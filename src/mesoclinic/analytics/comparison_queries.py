"""The statements the cohort comparisons read: per-cohort sufficient statistics for Welch and
ANCOVA, measurement patterns for the mixed model, one row per patient (no identifier) for the
propensity model, and the overlap of two cohorts (statements only; `comparison.py` runs them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Select, case, cast, func, select

from mesoclinic.analytics.cohorts import FOLLOW_UPS


def comparison_sums(changes: Any, tp: str) -> Select[Any]:
    """One cohort's totals at a time point for the Welch and ANCOVA comparisons: patients,
    sums of baseline, follow-up and change, their squares and baseline x follow-up."""
    x, y, c = changes.c.baseline, changes.c.value, changes.c.change
    return select(
        func.count().label("n"),
        func.sum(x).label("x"),
        func.sum(y).label("y"),
        func.sum(c).label("c"),
        func.sum(x * x).label("xx"),
        func.sum(y * y).label("yy"),
        func.sum(c * c).label("cc"),
        func.sum(x * y).label("xy"),
    ).where(changes.c.tp == tp, c.is_not(None))


def mixed_patterns(changes: Any, months: float) -> Select[Any]:
    """One cohort's patients for the mixed model, grouped by their times of measurement.

    Per patient: the baseline at month 0 and every follow-up up to `months` (a patient with
    a change at any follow-up takes part). Per pattern (count of rows n, sum of months m and
    of months squared): the patients, and the totals over them of y = sum of values, my = sum
    of months x value, their squares and product, and yy = sum of values squared. Month sums
    are whole numbers, so patients with the same times fall in the same pattern exactly.
    """
    month = case(*((changes.c.tp == p.key, p.months) for p in FOLLOW_UPS), else_=None)
    inside = month <= months
    value = case((inside, changes.c.value), else_=0.0)
    base = func.avg(changes.c.baseline)
    per_patient = (
        select(
            (1 + func.count(case((inside, 1)))).label("n"),
            func.coalesce(func.sum(case((inside, month))), 0).label("m"),
            func.coalesce(func.sum(case((inside, month * month))), 0).label("mm"),
            (base + func.sum(value)).label("y"),
            func.sum(month * value).label("my"),
            (base * base + func.sum(value * value)).label("yy"),
        )
        .where(changes.c.change.is_not(None))
        .group_by(changes.c.patient_id)
        .subquery("per_patient")
    )
    p = per_patient.c
    return select(
        p.n,
        p.m,
        p.mm,
        func.count().label("patients"),
        func.sum(p.y).label("y"),
        func.sum(p.my).label("my"),
        func.sum(p.y * p.y).label("y_y"),
        func.sum(p.y * p.my).label("y_my"),
        func.sum(p.my * p.my).label("my_my"),
        func.sum(p.yy).label("yy"),
    ).group_by(p.n, p.m, p.mm)


def propensity_rows(members: Any, changes: Any, tp: str, dialect: str) -> Select[Any]:
    """One row per patient measured at the time point: change and the covariates (age in
    days at the first session, sex, stage). No identifier."""
    if dialect == "sqlite":
        age: Any = func.julianday(func.date(members.c.t0)) - func.julianday(members.c.birth_date)
    else:
        age = cast(func.timezone("UTC", members.c.t0), Date) - members.c.birth_date
    return (
        select(
            changes.c.change,
            age.label("age_days"),
            members.c.sex,
            members.c.scale,
            members.c.grade,
        )
        .join(members, members.c.patient_id == changes.c.patient_id)
        .where(changes.c.tp == tp, changes.c.change.is_not(None))
    )


def overlap(first: Any, second: Any) -> Select[Any]:
    """How many patients two cohorts share."""
    return (
        select(func.count())
        .select_from(first)
        .join(second, second.c.patient_id == first.c.patient_id)
    )
