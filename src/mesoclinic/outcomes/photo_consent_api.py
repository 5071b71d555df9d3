"""JSON routes for photo consent: list, record a signed form, withdraw."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from mesoclinic.outcomes import photo_consent
from mesoclinic.outcomes.images_schemas import (
    PhotoConsentCreate,
    PhotoConsentRead,
    PhotoConsentWithdraw,
)
from mesoclinic.outcomes.models import PhotoConsent
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, created_once
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["images"])

Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]


def consent_read(consent: PhotoConsent, current_id: uuid.UUID | None) -> PhotoConsentRead:
    read = PhotoConsentRead.model_validate(consent)
    return read.model_copy(update={"current": consent.id == current_id})


@router.get("/patients/{patient_id}/photo-consents", response_model=list[PhotoConsentRead])
def list_photo_consents(
    patient_id: uuid.UUID, session: DbSession, actor: Reader
) -> list[PhotoConsentRead]:
    """Every photo consent of the patient, newest first; `current` marks the one in force."""
    rows = photo_consent.list_for(session, actor, patient_id)
    in_force = photo_consent.current(session, patient_id)
    return [consent_read(c, in_force.id if in_force else None) for c in rows]


@router.post(
    "/patients/{patient_id}/photo-consents", response_model=PhotoConsentRead, status_code=201
)
def record_photo_consent(
    patient_id: uuid.UUID,
    body: PhotoConsentCreate,
    session: DbSession,
    actor: Writer,
    once: Idempotency,
) -> Response:
    """Record a signed photo consent (clinical record, teaching, marketing); it replaces the
    current one."""

    def make() -> tuple[PhotoConsentRead, str]:
        consent = photo_consent.record(session, actor, patient_id, body)
        return consent_read(consent, consent.id), ""

    return created_once(session, actor, once, make)


@router.post("/photo-consents/{consent_id}/withdraw", response_model=PhotoConsentRead)
def withdraw_photo_consent(
    consent_id: uuid.UUID, body: PhotoConsentWithdraw, session: DbSession, actor: Writer
) -> PhotoConsentRead:
    """Withdraw a photo consent from now on (kept in the record)."""
    return consent_read(photo_consent.withdraw(session, actor, consent_id, body.reason), None)
