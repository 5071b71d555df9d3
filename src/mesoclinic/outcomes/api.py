"""JSON routes for marked sites, measurements and the measurement-kinds rulebook."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mesoclinic.outcomes import plan_reviews, service, sites
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.progress import BaselineRule
from mesoclinic.outcomes.responders import load_responder_rules
from mesoclinic.outcomes.schemas import (
    KindBookRead,
    MeasurementCorrection,
    MeasurementCreate,
    MeasurementRead,
    PlanReviewCreate,
    PlanReviewRead,
    SiteCreate,
    SiteRead,
    SiteUpdate,
    VoidRequest,
)
from mesoclinic.schemas_common import ShortText
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, SettingsDep, created_once
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["outcomes"])

Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]
PlanWriter = Annotated[Actor, Allowed(Permission.PLAN_WRITE)]
FIELD_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "invalid input; `error.field` names the field"}
}


@router.get("/measurement-kinds", response_model=KindBookRead)
def measurement_kinds(settings: SettingsDep, actor: Reader) -> KindBookRead:
    """What can be measured: each kind's UCUM unit, valid range, site and rater rules."""
    return KindBookRead.model_validate(load_kinds(settings.measurement_kinds))


@router.get("/patients/{patient_id}/sites", response_model=list[SiteRead])
def list_sites(
    patient_id: uuid.UUID, session: DbSession, actor: Reader, include_voided: bool = True
) -> list[SiteRead]:
    """The patient's marked scalp sites (voided ones are marked, not hidden, by default)."""
    found = sites.list_for(session, actor, patient_id, include_voided=include_voided)
    return [SiteRead.model_validate(s) for s in found]


@router.post(
    "/patients/{patient_id}/sites", response_model=SiteRead, status_code=201, responses=FIELD_ERRORS
)
def create_site(
    patient_id: uuid.UUID, body: SiteCreate, session: DbSession, actor: Writer, once: Idempotency
) -> Response:
    """Mark a site: where it is and how another clinician finds the same spot."""

    def make() -> tuple[SiteRead, str]:
        site = sites.create(session, actor, patient_id, body)
        return SiteRead.model_validate(site), f"/api/v1/sites/{site.id}"

    return created_once(session, actor, once, make)


@router.patch("/sites/{site_id}", response_model=SiteRead, responses=FIELD_ERRORS)
def update_site(
    site_id: uuid.UUID, body: SiteUpdate, session: DbSession, actor: Writer
) -> SiteRead:
    return SiteRead.model_validate(sites.update(session, actor, site_id, body))


@router.post("/sites/{site_id}/void", response_model=SiteRead, responses=FIELD_ERRORS)
def void_site(site_id: uuid.UUID, body: VoidRequest, session: DbSession, actor: Writer) -> SiteRead:
    """Mark a site entered in error; its measurements stay in the record."""
    return SiteRead.model_validate(sites.void(session, actor, site_id, body.reason))


@router.get("/patients/{patient_id}/measurements", response_model=list[MeasurementRead])
def list_measurements(
    patient_id: uuid.UUID,
    session: DbSession,
    settings: SettingsDep,
    actor: Reader,
    kind: Annotated[ShortText | None, Query(max_length=40)] = None,
    site_id: uuid.UUID | None = None,
    include_voided: bool = False,
    include_superseded: bool = False,
) -> list[MeasurementRead]:
    """The patient's measurements, newest first; voided and superseded values on request."""
    query = service.MeasurementQuery(kind, site_id, include_voided, include_superseded)
    rows = service.list_for(
        session, actor, patient_id, query, load_kinds(settings.measurement_kinds)
    )
    return [MeasurementRead.model_validate(m) for m in rows]


@router.post(
    "/patients/{patient_id}/measurements",
    response_model=MeasurementRead,
    status_code=201,
    responses=FIELD_ERRORS,
)
def create_measurement(
    patient_id: uuid.UUID,
    body: MeasurementCreate,
    session: DbSession,
    settings: SettingsDep,
    actor: Writer,
    once: Idempotency,
) -> Response:
    """Record a value by hand or from a named device; 422 names a wrong unit, an out-of-range
    value, a missing site or a missing rater."""

    def make() -> tuple[MeasurementRead, str]:
        kinds = load_kinds(settings.measurement_kinds)
        measurement = service.create(session, actor, patient_id, body, kinds)
        url = f"/api/v1/measurements/{measurement.id}"
        return MeasurementRead.model_validate(measurement), url

    return created_once(session, actor, once, make)


@router.get("/measurements/{measurement_id}", response_model=MeasurementRead)
def get_measurement(
    measurement_id: uuid.UUID, session: DbSession, actor: Reader
) -> MeasurementRead:
    return MeasurementRead.model_validate(service.get(session, actor, measurement_id))


@router.post(
    "/measurements/{measurement_id}/void", response_model=MeasurementRead, responses=FIELD_ERRORS
)
def void_measurement(
    measurement_id: uuid.UUID, body: VoidRequest, session: DbSession, actor: Writer
) -> MeasurementRead:
    """Mark a value entered in error (kept in the record with the reason)."""
    return MeasurementRead.model_validate(service.void(session, actor, measurement_id, body.reason))


@router.post(
    "/measurements/{measurement_id}/correct",
    response_model=MeasurementRead,
    status_code=201,
    responses=FIELD_ERRORS,
)
def correct_measurement(
    measurement_id: uuid.UUID,
    body: MeasurementCorrection,
    session: DbSession,
    settings: SettingsDep,
    actor: Writer,
    once: Idempotency,
) -> Response:
    """Store a corrected value beside the original (which is marked superseded)."""

    def make() -> tuple[MeasurementRead, str]:
        correction = service.correct(
            session, actor, measurement_id, body, load_kinds(settings.measurement_kinds)
        )
        return MeasurementRead.model_validate(correction), f"/api/v1/measurements/{correction.id}"

    return created_once(session, actor, once, make)


@router.get("/patients/{patient_id}/plan-reviews", response_model=list[PlanReviewRead])
def list_plan_reviews(
    patient_id: uuid.UUID, session: DbSession, actor: Reader
) -> list[PlanReviewRead]:
    """The patient's plan reviews ("continue unchanged" after a non-responder verdict), newest
    first."""
    found = plan_reviews.list_for(session, actor, patient_id)
    return [PlanReviewRead.model_validate(r) for r in found]


@router.post(
    "/patients/{patient_id}/plan-reviews",
    response_model=PlanReviewRead,
    status_code=201,
    responses={
        **FIELD_ERRORS,
        409: {"description": "the patient has no active plan"},
    },
)
def create_plan_review(
    patient_id: uuid.UUID,
    body: PlanReviewCreate,
    session: DbSession,
    actor: PlanWriter,
    settings: SettingsDep,
    once: Idempotency,
) -> Response:
    """Continue the active plan unchanged although the measured values meet the non-responder
    rule, with the reason (refused when they do not). The dashboard's review list leaves the
    patient out until a newer value is recorded."""

    def make() -> tuple[PlanReviewRead, str]:
        review = plan_reviews.record(
            session,
            actor,
            patient_id,
            body,
            load_kinds(settings.measurement_kinds),
            load_responder_rules(settings.responder_rules),
            BaselineRule(settings.progress_baseline),
        )
        return PlanReviewRead.model_validate(review), f"/api/v1/patients/{patient_id}/plan-reviews"

    return created_once(session, actor, once, make)
