"""What analytics takes and gives: saved cohorts, and aggregate results only.

No schema here has a field for a patient's id, name, birth date or any date of care: results
are counts and statistics of groups, and a figure resting on fewer than five patients is sent
as null with its field named in `suppressed`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mesoclinic.analytics.cohorts import CohortFilter
from mesoclinic.schemas_common import ReadSchema, Schema

CohortName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f]+$"
    ),
]


class CohortCreate(Schema):
    name: CohortName
    filter: CohortFilter = CohortFilter()


class CohortUpdate(Schema):
    name: CohortName | None = None
    filter: CohortFilter | None = None


class CohortRead(ReadSchema):
    id: uuid.UUID
    name: str
    filter: CohortFilter
    clinic_id: uuid.UUID | None  # None: a group admin's cohort across clinics
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class Interval(BaseModel):
    model_config = ConfigDict(frozen=True)

    low: float
    high: float


class Aggregate(BaseModel):
    """Figures of one group: counts of patients and statistics, small cells hidden."""

    suppressed: list[str] = Field(default_factory=list)  # the fields hidden (under 5 patients)


class TimePointRow(Aggregate):
    time_point: str  # baseline, 3m, 6m, 12m
    label: str
    group: str | None = None  # the cocktail, protocol or stage, in a grouped table
    cohort: int | None  # patients in the cohort (or group)
    measured: int | None  # with a value in the window
    n: int | None  # with a value in the window and a baseline at the same site
    mean_change: float | None = None
    mean_change_ci: Interval | None = None
    percent_change: float | None = None  # the mean change over the mean baseline, %
    median_change: float | None = None
    q1_change: float | None = None
    q3_change: float | None = None
    responders: int | None = None
    responder_rate: float | None = None
    responder_ci: Interval | None = None
    dropped_out: int | None = None  # a plan stopped, no value in the window
    not_yet_due: int | None = None  # the window has not closed yet
    no_value: int | None = None  # due, still in care, no value in the window


class CohortSummary(BaseModel):
    cohort: str  # the saved name, or "custom filter"
    description: str  # the filter in words
    kind: str
    kind_label: str
    unit: str
    responder_rule: str | None  # the rule's label, or None when no rule judges this kind
    responder_source: str | None
    windows_source: str
    time_points: list[TimePointRow]


class GroupedSummary(BaseModel):
    cohort: str
    description: str
    kind: str
    unit: str
    by: str  # cocktail or protocol
    time_point: str
    rows: list[TimePointRow]


class ComparisonRow(BaseModel):
    method: str  # unadjusted, ancova, mixed, propensity
    label: str
    difference: float | None
    ci: Interval | None
    p_value: float | None
    n_a: int | None
    n_b: int | None
    note: str


class BalanceRow(BaseModel):
    covariate: str
    smd_before: float | None  # standardised mean difference, B minus A (None: no overlap)
    smd_after: float | None  # after propensity weighting


class CohortComparison(BaseModel):
    cohort_a: str
    cohort_b: str
    description_a: str
    description_b: str
    kind: str
    unit: str
    time_point: str
    rows: list[ComparisonRow]
    balance: list[BalanceRow]
    n_a: int | None  # patients of A with a change at the time point (None: under 5)
    n_b: int | None
    overlap: int  # patients in both cohorts
    caveat: str
    suppressed: bool  # a cohort has fewer than 5 measured patients: no estimate is shown


class RateRow(Aggregate):
    name: str  # product, lot, technique or clinician
    product: str | None = None  # for a lot
    recalled: bool = False
    patients: int | None
    exposures: int | None  # sessions
    events: int | None  # sessions with an adverse event
    rate: float | None = None
    ci: Interval | None = None  # exact (Clopper-Pearson) 95 %
    flagged: bool = False
    flag_reason: str | None = None


class SafetyReport(BaseModel):
    cohort: str
    description: str
    alpha: float
    signal_method: str
    products: list[RateRow]
    lots: list[RateRow]
    techniques: list[RateRow]
    clinicians: list[RateRow]
    outcome_by_cocktail: GroupedSummary
    outcome_by_protocol: GroupedSummary


class StageRow(Aggregate):
    diagnosis: str | None
    stage: str  # "norwood_hamilton III", or "not staged"
    n: int | None
    mean_change: float | None = None
    mean_change_ci: Interval | None = None
    responders: int | None = None
    responder_rate: float | None = None
    responder_ci: Interval | None = None


class RuleEvidence(Aggregate):
    rule_id: str
    outcome: str  # recommended, not_recommended, caution ...
    reason: str
    source: str
    stages: list[str]  # the stage rows this rule covers
    n: int | None
    responders: int | None = None
    responder_rate: float | None = None
    responder_ci: Interval | None = None


class StageReport(BaseModel):
    cohort: str
    description: str
    kind: str
    time_point: str
    responder_rule: str | None
    stages: list[StageRow]
    rules: list[RuleEvidence]
    rulebook_version: str
