"""Procedure-specific, versioned consent: sign, withdraw, and the gate other areas ask."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import InvalidInput, InvalidTransition, NotFound
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Consent, ConsentForm
from mesoclinic.patients.schemas import ConsentCreate
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission


def current_forms(session: Session) -> Sequence[ConsentForm]:
    """The newest version of each procedure's consent form."""
    newest = (
        select(ConsentForm.procedure, func.max(ConsentForm.version).label("v"))
        .group_by(ConsentForm.procedure)
        .subquery()
    )
    return (
        session.execute(
            select(ConsentForm)
            .join(
                newest,
                (ConsentForm.procedure == newest.c.procedure) & (ConsentForm.version == newest.c.v),
            )
            .order_by(ConsentForm.procedure)
        )
        .scalars()
        .all()
    )


def current_form(session: Session, procedure: str) -> ConsentForm:
    for form in current_forms(session):
        if form.procedure == procedure:
            return form
    raise InvalidInput(f"No consent form for procedure {procedure!r}", "procedure")


def is_current(consent: Consent, newest_version: int) -> bool:
    return consent.withdrawn_at is None and consent.form.version >= newest_version


def list_for(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Consent]:
    patient = patient_service.load(session, actor, patient_id, Permission.CONSENT_READ)
    audit.record(
        session, actor, "read", "consent", None, patient_id=patient.id, clinic_id=patient.clinic_id
    )
    return list(patient.consents)


def sign(session: Session, actor: Actor, patient_id: uuid.UUID, data: ConsentCreate) -> Consent:
    """Record a signature on the current version of the procedure's consent form."""
    patient = patient_service.load(session, actor, patient_id, Permission.CONSENT_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    patient_service.check_clinical_date(patient, data.signed_at, "signed_at", "The signature date")
    form = current_form(session, data.procedure)
    consent = Consent(
        patient_id=patient.id,
        form_id=form.id,
        signed_at=data.signed_at,
        signed_by=data.signed_by,
        signer_role=data.signer_role,
        recorded_by=actor.username,
    )
    session.add(consent)
    session.flush()
    session.refresh(consent)
    audit.record(
        session,
        actor,
        "create",
        "consent",
        consent.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"procedure": form.procedure, "version": form.version},
    )
    return consent


def withdraw(
    session: Session, actor: Actor, patient_id: uuid.UUID, consent_id: uuid.UUID, reason: str
) -> Consent:
    patient = patient_service.load(session, actor, patient_id, Permission.CONSENT_WRITE)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.patient_id != patient.id:
        raise NotFound("Consent not found")
    if consent.withdrawn_at is not None:
        raise InvalidTransition("This consent is already withdrawn")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        "withdraw",
        "consent",
        consent.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"reason": reason},
    )
    return consent


def current_consent(session: Session, patient_id: uuid.UUID, procedure: str) -> Consent | None:
    """The patient's valid consent for a procedure, or None (used by the treatment gates)."""
    newest = session.execute(
        select(func.max(ConsentForm.version)).where(ConsentForm.procedure == procedure)
    ).scalar_one_or_none()
    if newest is None:
        return None
    consents = (
        session.execute(
            select(Consent)
            .join(ConsentForm)
            .where(Consent.patient_id == patient_id, ConsentForm.procedure == procedure)
            .order_by(Consent.signed_at.desc())
        )
        .scalars()
        .all()
    )
    return next((c for c in consents if is_current(c, newest)), None)
