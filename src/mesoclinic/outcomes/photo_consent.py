"""Photo consent: what a patient allows their images to be used for (clinical record, teaching,
marketing). A new form replaces the current one; withdrawal is honoured from then on; nothing is
deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import utcnow
from mesoclinic.errors import Conflict, InvalidTransition, NotFound
from mesoclinic.outcomes.images_schemas import PhotoConsentCreate
from mesoclinic.outcomes.models import PhotoConsent
from mesoclinic.patients import service as patient_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

Scope = Literal["clinical_record", "teaching", "marketing"]
SCOPE_LABELS: dict[str, str] = {
    "clinical_record": "the clinical record",
    "teaching": "teaching",
    "marketing": "marketing",
}


def current(session: Session, patient_id: uuid.UUID) -> PhotoConsent | None:
    """The patient's photo consent in force now (the newest not withdrawn), if any."""
    return session.execute(
        select(PhotoConsent)
        .where(PhotoConsent.patient_id == patient_id, PhotoConsent.withdrawn_at.is_(None))
        .order_by(PhotoConsent.signed_at.desc(), PhotoConsent.recorded_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def scopes(session: Session, patient_id: uuid.UUID) -> frozenset[str]:
    """The uses the patient allows now: a subset of clinical_record, teaching, marketing."""
    consent = current(session, patient_id)
    if consent is None:
        return frozenset()
    return frozenset(scope for scope in SCOPE_LABELS if getattr(consent, scope))


def require_scope(session: Session, patient_id: uuid.UUID, scope: Scope, what: str) -> None:
    """Conflict (409) unless the current consent covers the scope; `what` names the action."""
    if scope not in scopes(session, patient_id):
        raise Conflict(
            f"{what}: the patient's photo consent does not cover {SCOPE_LABELS[scope]}. "
            "Record a signed photo consent with that scope first.",
            "photo_consent",
            "photo_consent_missing",
        )


def list_for(session: Session, actor: Actor, patient_id: uuid.UUID) -> Sequence[PhotoConsent]:
    """Every photo consent of the patient, newest first (audited)."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    audit.record(
        session,
        actor,
        "list",
        "photo_consent",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return (
        session.execute(
            select(PhotoConsent)
            .where(PhotoConsent.patient_id == patient.id)
            .order_by(PhotoConsent.signed_at.desc(), PhotoConsent.recorded_at.desc())
        )
        .scalars()
        .all()
    )


def record(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: PhotoConsentCreate
) -> PhotoConsent:
    """Record a signed form; the consent it replaces is closed as superseded."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_WRITE)
    now = utcnow()
    patient_service.check_clinical_date(patient, data.signed_at, "signed_at", "The signature date")
    previous = current(session, patient.id)
    if previous is not None:
        previous.withdrawn_at = now
        previous.withdrawn_reason = f"superseded by the form signed {data.signed_at:%Y-%m-%d}"
    consent = PhotoConsent(
        patient_id=patient.id, **data.model_dump(), recorded_by=actor.username, recorded_at=now
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "photo_consent",
        consent.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={s: bool(getattr(consent, s)) for s in SCOPE_LABELS},
    )
    return consent


def withdraw(
    session: Session, actor: Actor, consent_id: uuid.UUID, reason: str, at: datetime | None = None
) -> PhotoConsent:
    """Withdraw a consent from now on (photos already stored stay in the record)."""
    consent = session.get(PhotoConsent, consent_id)
    if consent is None:
        raise NotFound("Photo consent not found")
    patient = patient_service.load(session, actor, consent.patient_id, Permission.OUTCOME_WRITE)
    if consent.withdrawn_at is not None:
        raise InvalidTransition("This photo consent is already withdrawn")
    consent.withdrawn_at = at or utcnow()
    consent.withdrawn_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        "withdraw",
        "photo_consent",
        consent.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"reason": reason},
    )
    return consent
