"""JSON routes of analytics: saved cohorts, and a cohort's summary, comparison, lots and
response by stage. Aggregates only; every route needs the analytics permission."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mesoclinic.analytics import comparison, safety, service
from mesoclinic.analytics.area import AnalyticsPermission
from mesoclinic.analytics.cohorts import parse_filter
from mesoclinic.analytics.flows import rulebooks
from mesoclinic.analytics.schemas import (
    CohortComparison,
    CohortCreate,
    CohortRead,
    CohortSummary,
    CohortUpdate,
    SafetyReport,
    StageReport,
)
from mesoclinic.assessment.rulebook import get_rulebook
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, SettingsDep, created_once

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Viewer = Annotated[Actor, Allowed(AnalyticsPermission.VIEW)]
FIELD_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "invalid input; `error.field` names the field"}
}
CohortName = Annotated[str | None, Query(max_length=80, description="a saved cohort's name")]
FilterJson = Annotated[
    str | None,
    Query(max_length=4000, description="an ad-hoc cohort filter as JSON (see CohortFilter)"),
]
Kind = Annotated[str, Query(max_length=40, description="the measurement kind summarised")]
TimePoint = Annotated[str, Query(max_length=10, description="3m, 6m or 12m")]


@router.get("/cohorts", response_model=list[CohortRead])
def list_cohorts(session: DbSession, actor: Viewer) -> list[CohortRead]:
    """Saved cohorts of the caller's clinic (a group admin: every clinic's and the group's)."""
    return [CohortRead.model_validate(c) for c in service.list_cohorts(session, actor)]


@router.post("/cohorts", response_model=CohortRead, status_code=201, responses=FIELD_ERRORS)
def create_cohort(
    body: CohortCreate, session: DbSession, actor: Viewer, once: Idempotency
) -> Response:
    """Save a named cohort filter; names are unique within a clinic."""

    def make() -> tuple[CohortRead, str]:
        row = service.create_cohort(session, actor, body)
        return CohortRead.model_validate(row), f"/api/v1/analytics/cohorts/{row.id}"

    return created_once(session, actor, once, make)


@router.get("/cohorts/{cohort_id}", response_model=CohortRead)
def get_cohort(cohort_id: uuid.UUID, session: DbSession, actor: Viewer) -> CohortRead:
    return CohortRead.model_validate(service.load_cohort(session, actor, cohort_id))


@router.patch("/cohorts/{cohort_id}", response_model=CohortRead, responses=FIELD_ERRORS)
def update_cohort(
    cohort_id: uuid.UUID, body: CohortUpdate, session: DbSession, actor: Viewer
) -> CohortRead:
    return CohortRead.model_validate(service.update_cohort(session, actor, cohort_id, body))


@router.delete("/cohorts/{cohort_id}", status_code=204)
def delete_cohort(cohort_id: uuid.UUID, session: DbSession, actor: Viewer) -> Response:
    service.delete_cohort(session, actor, cohort_id)
    return Response(status_code=204)


@router.get("/summary", response_model=CohortSummary, responses=FIELD_ERRORS)
def summary(
    session: DbSession,
    settings: SettingsDep,
    actor: Viewer,
    cohort: CohortName = None,
    filter: FilterJson = None,  # noqa: A002 - the query parameter's public name
    kind: Kind = service.DEFAULT_KIND,
) -> CohortSummary:
    """Outcome at baseline, 3, 6 and 12 months; cells under 5 patients are null and named."""
    return service.summary(
        session,
        actor,
        cohort=cohort,
        filt=parse_filter(filter),
        kind=kind,
        **rulebooks(settings),
    )


@router.get("/compare", response_model=CohortComparison, responses=FIELD_ERRORS)
def compare_cohorts(
    session: DbSession,
    settings: SettingsDep,
    actor: Viewer,
    cohort_a: CohortName = None,
    cohort_b: CohortName = None,
    filter_a: FilterJson = None,
    filter_b: FilterJson = None,
    kind: Kind = service.DEFAULT_KIND,
    time_point: TimePoint = "6m",
) -> CohortComparison:
    """Cohort B against cohort A: unadjusted, ANCOVA, mixed-model and propensity estimates of
    the difference in change, the covariate balance and the observational caveat."""
    return comparison.compare(
        session,
        actor,
        a=(cohort_a, parse_filter(filter_a, "filter_a")),
        b=(cohort_b, parse_filter(filter_b, "filter_b")),
        kind=kind,
        point=time_point,
        **rulebooks(settings),
    )


@router.get("/lots", response_model=SafetyReport, responses=FIELD_ERRORS)
def lots(
    session: DbSession,
    settings: SettingsDep,
    actor: Viewer,
    cohort: CohortName = None,
    filter: FilterJson = None,  # noqa: A002
    kind: Kind = service.DEFAULT_KIND,
    time_point: TimePoint = "6m",
) -> SafetyReport:
    """Adverse-event rates per product, lot, technique and clinician with exact CIs, flagged
    lots, and the outcome by cocktail and protocol."""
    return safety.lots(
        session,
        actor,
        cohort=cohort,
        filt=parse_filter(filter),
        kind=kind,
        point=time_point,
        **rulebooks(settings),
    )


@router.get("/by-stage", response_model=StageReport, responses=FIELD_ERRORS)
def by_stage(
    session: DbSession,
    settings: SettingsDep,
    actor: Viewer,
    cohort: CohortName = None,
    filter: FilterJson = None,  # noqa: A002
    kind: Kind = service.DEFAULT_KIND,
    time_point: TimePoint = "6m",
) -> StageReport:
    """Response per diagnosis and stage, pooled beside each candidacy rule."""
    return safety.by_stage(
        session,
        actor,
        cohort=cohort,
        filt=parse_filter(filter),
        kind=kind,
        point=time_point,
        **rulebooks(settings),
        rulebook=get_rulebook(settings.rulebook),
    )
