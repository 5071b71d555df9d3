"""Marked scalp sites: list, mark, describe again, void. Services flush, never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import InvalidTransition
from mesoclinic.outcomes.models import MeasurementSite
from mesoclinic.outcomes.schemas import SiteCreate, SiteUpdate
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    site: MeasurementSite | None,
    patient: Patient,
    **detail: object,
) -> None:
    audit.record(
        session,
        actor,
        action,
        "measurement_site",
        site.id if site else None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail=dict(detail) or None,
    )


def writable_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """A patient whose outcomes the actor may change: in scope and not entered in error."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    return patient


def list_for(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, include_voided: bool = True
) -> Sequence[MeasurementSite]:
    """A patient's marked sites, active first then by name, auditing the read."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    stmt = select(MeasurementSite).where(MeasurementSite.patient_id == patient.id)
    if not include_voided:
        stmt = stmt.where(MeasurementSite.status == RecordStatus.ACTIVE)
    sites = session.execute(stmt.order_by(MeasurementSite.created_at)).scalars().all()
    sites = sorted(sites, key=lambda s: s.status is not RecordStatus.ACTIVE)
    _audit(session, actor, "read", None, patient, count=len(sites))
    return sites


def load(
    session: Session, actor: Actor, site_id: uuid.UUID, permission: Permission
) -> MeasurementSite:
    """A site the actor may see (scoped like its patient), not audited."""
    return patient_service.load_owned(
        session, actor, MeasurementSite, site_id, permission, "Measurement site"
    )


def create(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: SiteCreate
) -> MeasurementSite:
    """Mark a new site on the patient's scalp."""
    patient = writable_patient(session, actor, patient_id)
    site = MeasurementSite(
        patient_id=patient.id,
        location=data.location,
        label=data.label,
        description=data.description,
        clipped=data.clipped,
        created_by=actor.username,
        updated_by=actor.username,
    )
    session.add(site)
    session.flush()
    _audit(session, actor, "create", site, patient)
    return site


def _changeable(session: Session, actor: Actor, site_id: uuid.UUID) -> MeasurementSite:
    site = load(session, actor, site_id, Permission.OUTCOME_WRITE)
    writable_patient(session, actor, site.patient_id)
    if site.status is not RecordStatus.ACTIVE:
        raise InvalidTransition("This site is marked entered in error and cannot be changed")
    return site


def update(session: Session, actor: Actor, site_id: uuid.UUID, data: SiteUpdate) -> MeasurementSite:
    """Change the fields that were sent (a better description, clipped or not)."""
    site = _changeable(session, actor, site_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(site, name, value)
    site.updated_by = actor.username
    session.flush()
    patient = patient_service.load(session, actor, site.patient_id, Permission.OUTCOME_WRITE)
    _audit(session, actor, "update", site, patient, fields=sorted(changes))
    return site


def void(session: Session, actor: Actor, site_id: uuid.UUID, reason: str) -> MeasurementSite:
    """Mark a site entered in error; it and its measurements stay in the record."""
    site = _changeable(session, actor, site_id)
    site.status = RecordStatus.ENTERED_IN_ERROR
    site.void_reason = reason
    site.updated_by = actor.username
    session.flush()
    patient = patient_service.load(session, actor, site.patient_id, Permission.OUTCOME_WRITE)
    _audit(session, actor, "void", site, patient, reason=reason)
    return site
