"""JSON routes for patients, their medical history and consents."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import history as history_service
from mesoclinic.patients import records, service
from mesoclinic.patients.history import HistoryCreate, HistoryKind
from mesoclinic.patients.models import Consent
from mesoclinic.patients.schemas import (
    AllergyCreate,
    AllergyRead,
    ConditionCreate,
    ConditionRead,
    ConsentCreate,
    ConsentFormRead,
    ConsentRead,
    ConsentWithdraw,
    HistoryRead,
    MedicalHistoryRead,
    MedicationCreate,
    MedicationRead,
    PatientCreate,
    PatientRead,
    PatientUpdate,
    PatientVoid,
    PregnancyStatusCreate,
    PregnancyStatusRead,
)
from mesoclinic.schemas_common import Page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import (
    Allowed,
    DbSession,
    Idempotency,
    IdempotencyRequest,
    PageOffset,
    created_once,
    json_answer,
)
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["patients"])


@router.post("/patients", response_model=PatientRead, status_code=201)
def create_patient(
    body: PatientCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_WRITE)],
    clinic_id: uuid.UUID | None = None,
) -> Response:
    """Register a patient in the caller's clinic (a group admin passes `clinic_id`)."""

    def make() -> tuple[PatientRead, str]:
        patient = service.create(session, actor, body, clinic_id)
        return PatientRead.model_validate(patient), f"/api/v1/patients/{patient.id}"

    return created_once(session, actor, once, make)


@router.get("/patients", response_model=Page[PatientRead])
def list_patients(
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_READ)],
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description=(
                "words, all of which must match: a part of the given or family name (anywhere in"
                " it from 3 characters, its start below), a record number or its start, or phone"
                " digits (the start or the end of the number)"
            ),
        ),
    ] = None,
    birth_date: date | None = None,
    include_voided: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    offset: PageOffset = 0,
) -> Response:
    """Search patients in the caller's clinic: each word is a part of the family or given name
    (anywhere in it from three characters, its start for one or two; accents and case ignored),
    a record number (`MC-000123`, or its number), or phone digits
    (the start or the end of the number). `total` counts at most 1000 matches
    (`total_capped` says when there are more)."""
    found = records.find_records(
        session,
        actor,
        service.PatientQuery(q, birth_date, include_voided),
        limit=limit,
        offset=offset,
    )
    page: Page[PatientRead] = Page(
        items=[PatientRead.model_validate(p) for p in found.rows],
        total=found.total,
        total_capped=found.capped,
        limit=limit,
        offset=offset,
    )
    return json_answer(page)


@router.get("/patients/{patient_id}", response_model=PatientRead)
def get_patient(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_READ)],
) -> Response:
    return json_answer(PatientRead.model_validate(records.get_record(session, actor, patient_id)))


@router.patch("/patients/{patient_id}", response_model=PatientRead)
def update_patient(
    patient_id: uuid.UUID,
    body: PatientUpdate,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_WRITE)],
) -> PatientRead:
    return PatientRead.model_validate(service.update(session, actor, patient_id, body))


@router.post("/patients/{patient_id}/void", response_model=PatientRead)
def void_patient(
    patient_id: uuid.UUID,
    body: PatientVoid,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_VOID)],
) -> PatientRead:
    """Mark a record entered-in-error (records are never deleted)."""
    return PatientRead.model_validate(service.void(session, actor, patient_id, body.reason))


@router.get("/patients/{patient_id}/history", response_model=MedicalHistoryRead)
def get_history(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_READ)],
) -> MedicalHistoryRead:
    return MedicalHistoryRead.model_validate(history_service.read(session, actor, patient_id))


def _history_created(
    session: Session,
    actor: Actor,
    once: IdempotencyRequest,
    patient_id: uuid.UUID,
    kind: HistoryKind,
    body: HistoryCreate,
    read: type[HistoryRead],
) -> Response:
    """Add one history entry, once per Idempotency-Key."""

    def make() -> tuple[HistoryRead, str]:
        item = history_service.add(session, actor, patient_id, kind, body)
        return read.model_validate(item), f"/api/v1/patients/{patient_id}/history"

    return created_once(session, actor, once, make)


@router.post("/patients/{patient_id}/allergies", response_model=AllergyRead, status_code=201)
def add_allergy(
    patient_id: uuid.UUID,
    body: AllergyCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> Response:
    return _history_created(session, actor, once, patient_id, "allergies", body, AllergyRead)


@router.post("/patients/{patient_id}/medications", response_model=MedicationRead, status_code=201)
def add_medication(
    patient_id: uuid.UUID,
    body: MedicationCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> Response:
    return _history_created(session, actor, once, patient_id, "medications", body, MedicationRead)


@router.post("/patients/{patient_id}/conditions", response_model=ConditionRead, status_code=201)
def add_condition(
    patient_id: uuid.UUID,
    body: ConditionCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> Response:
    return _history_created(session, actor, once, patient_id, "conditions", body, ConditionRead)


@router.post(
    "/patients/{patient_id}/pregnancy-statuses", response_model=PregnancyStatusRead, status_code=201
)
def add_pregnancy_status(
    patient_id: uuid.UUID,
    body: PregnancyStatusCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> Response:
    return _history_created(
        session, actor, once, patient_id, "pregnancy-statuses", body, PregnancyStatusRead
    )


@router.post("/patients/{patient_id}/{kind}/{item_id}/void", status_code=204)
def void_history_item(
    patient_id: uuid.UUID,
    kind: history_service.HistoryKind,
    item_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> None:
    """Mark an allergy, medication, condition or pregnancy status entered-in-error."""
    history_service.void_item(session, actor, patient_id, kind, item_id)


def consent_read(consent: Consent, newest_version: int) -> ConsentRead:
    return ConsentRead(
        id=consent.id,
        procedure=consent.form.procedure,
        version=consent.form.version,
        title=consent.form.title,
        signed_at=consent.signed_at,
        signed_by=consent.signed_by,
        signer_role=consent.signer_role,
        recorded_by=consent.recorded_by,
        withdrawn_at=consent.withdrawn_at,
        withdrawn_reason=consent.withdrawn_reason,
        current=consent_service.is_current(consent, newest_version),
    )


def _newest_versions(session: DbSession) -> dict[str, int]:
    return {f.procedure: f.version for f in consent_service.current_forms(session)}


@router.get("/consent-forms", response_model=list[ConsentFormRead], tags=["consent"])
def list_consent_forms(
    session: DbSession, actor: Annotated[Actor, Allowed(Permission.CONSENT_READ)]
) -> list[ConsentFormRead]:
    """The current version of each procedure's consent text."""
    return [ConsentFormRead.model_validate(f) for f in consent_service.current_forms(session)]


@router.get("/patients/{patient_id}/consents", response_model=list[ConsentRead], tags=["consent"])
def list_consents(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CONSENT_READ)],
) -> list[ConsentRead]:
    newest = _newest_versions(session)
    return [
        consent_read(c, newest.get(c.form.procedure, 0))
        for c in consent_service.list_for(session, actor, patient_id)
    ]


@router.post(
    "/patients/{patient_id}/consents", response_model=ConsentRead, status_code=201, tags=["consent"]
)
def sign_consent(
    patient_id: uuid.UUID,
    body: ConsentCreate,
    session: DbSession,
    once: Idempotency,
    actor: Annotated[Actor, Allowed(Permission.CONSENT_WRITE)],
) -> Response:
    """Record that the patient signed the current consent text for a procedure."""

    def make() -> tuple[ConsentRead, str]:
        consent = consent_service.sign(session, actor, patient_id, body)
        return consent_read(
            consent, consent.form.version
        ), f"/api/v1/patients/{patient_id}/consents"

    return created_once(session, actor, once, make)


@router.post(
    "/patients/{patient_id}/consents/{consent_id}/withdraw",
    response_model=ConsentRead,
    tags=["consent"],
)
def withdraw_consent(
    patient_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: ConsentWithdraw,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CONSENT_WRITE)],
) -> ConsentRead:
    consent = consent_service.withdraw(session, actor, patient_id, consent_id, body.reason)
    return consent_read(consent, _newest_versions(session).get(consent.form.procedure, 0))
