"""Patient record use cases: register, find, read, update, void. Services flush, never commit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import InvalidInput, InvalidTransition, NotFound
from mesoclinic.patients.models import Patient
from mesoclinic.patients.schemas import PatientCreate, PatientUpdate
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission, Role


def _digits(phone: str | None) -> str | None:
    return re.sub(r"\D", "", phone) if phone else None


def _next_record_number(session: Session, clinic_id: uuid.UUID) -> str:
    clinic = session.get(Clinic, clinic_id, with_for_update=True)
    if clinic is None:
        raise NotFound("Clinic not found", "clinic_id")
    clinic.record_seq += 1
    return f"MC-{clinic.record_seq:06d}"


def create(
    session: Session, actor: Actor, data: PatientCreate, clinic_id: uuid.UUID | None = None
) -> Patient:
    """Register a patient in the actor's clinic (a group admin names the clinic)."""
    actor.require(Permission.PATIENT_WRITE)
    if actor.role is Role.PATIENT:
        raise InvalidInput("Patients cannot register other patients")
    target_clinic = actor.clinic_id if actor.clinic_id else clinic_id
    if target_clinic is None:
        raise InvalidInput("Choose the clinic for this patient", "clinic_id")
    patient = Patient(
        **data.model_dump(),
        clinic_id=target_clinic,
        phone_digits=_digits(data.phone),
        record_number=_next_record_number(session, target_clinic),
        created_by=actor.username,
        updated_by=actor.username,
    )
    session.add(patient)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "patient",
        patient.id,
        patient_id=patient.id,
        clinic_id=target_clinic,
    )
    return patient


def load(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    permission: Permission = Permission.PATIENT_READ,
) -> Patient:
    """Fetch a patient the actor may see, without auditing (callers audit what they read)."""
    actor.require(permission)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("Patient not found")
    actor.check_patient_scope(patient.clinic_id, patient.id)
    return patient


R = TypeVar("R")


def load_owned(
    session: Session,
    actor: Actor,
    model: type[R],
    record_id: uuid.UUID,
    permission: Permission,
    label: str,
) -> R:
    """A record that belongs to a patient (visit, plan, appointment...), scoped like the patient.

    The model needs a `patient_id` column; no audit (callers audit what they read).
    """
    actor.require(permission)
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"{label} not found")
    load(session, actor, record.patient_id, permission)  # type: ignore[attr-defined]
    return record


def get(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """Read one patient's record, auditing the read."""
    patient = load(session, actor, patient_id)
    audit.record(
        session,
        actor,
        "read",
        "patient",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return patient


@dataclass(frozen=True)
class PatientQuery:
    text: str | None = None  # name, record number or phone
    birth_date: date | None = None
    include_voided: bool = False
    name: str | None = None  # every word in the given or family name (FHIR `name`)
    record_number: str | None = None  # exactly this record number (FHIR `identifier`)
    clinic_id: uuid.UUID | None = None  # only this clinic's patients (inside the actor's scope)


def _search_query(actor: Actor, query: PatientQuery) -> Select[Patient]:
    stmt = select(Patient)
    if actor.role is Role.PATIENT:
        stmt = stmt.where(Patient.id == actor.patient_id)
    elif not actor.is_group_admin:
        stmt = stmt.where(Patient.clinic_id == actor.clinic_id)
    if not query.include_voided:
        stmt = stmt.where(Patient.status == RecordStatus.ACTIVE)
    if query.birth_date:
        stmt = stmt.where(Patient.birth_date == query.birth_date)
    if query.record_number is not None:
        stmt = stmt.where(Patient.record_number == query.record_number)
    if query.clinic_id is not None:
        stmt = stmt.where(Patient.clinic_id == query.clinic_id)
    for term in (query.name or "").split():
        like = f"%{term.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Patient.given_name).like(like),
                func.lower(Patient.family_name).like(like),
            )
        )
    for term in (query.text or "").split():
        like = f"%{term.lower()}%"
        clauses = [
            func.lower(Patient.given_name).like(like),
            func.lower(Patient.family_name).like(like),
            func.lower(Patient.record_number).like(like),
        ]
        digits = _digits(term)
        if digits and len(digits) >= 3:
            clauses.append(Patient.phone_digits.like(f"%{digits}%"))
        stmt = stmt.where(or_(*clauses))
    return stmt


def search(
    session: Session, actor: Actor, query: PatientQuery, *, limit: int = 25, offset: int = 0
) -> tuple[Sequence[Patient], int]:
    """Find patients by name, record number, phone or date of birth in the actor's scope."""
    actor.require(Permission.PATIENT_READ)
    stmt = _search_query(actor, query)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = (
        session.execute(
            stmt.order_by(Patient.family_name, Patient.given_name, Patient.id)
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    audit.record(
        session,
        actor,
        "search",
        "patient",
        None,
        detail={
            "text": query.text,
            "birth_date": query.birth_date,
            "returned": [str(p.id) for p in rows],
        },
    )
    return rows, total


def update(session: Session, actor: Actor, patient_id: uuid.UUID, data: PatientUpdate) -> Patient:
    """Change the fields that were sent; voided records are read-only."""
    patient = load(session, actor, patient_id, Permission.PATIENT_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(patient, name, value)
    if "phone" in changes:
        patient.phone_digits = _digits(patient.phone)
    patient.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "patient",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"fields": sorted(changes)},
    )
    return patient


def mark_entered_in_error(
    session: Session, actor: Actor, record: Any, reason: str, label: str
) -> None:
    """Void a clinical record (status, when, why, by whom); records are never deleted."""
    if record.status != RecordStatus.ACTIVE:
        raise InvalidTransition(f"This {label} is already voided")
    record.status = RecordStatus.ENTERED_IN_ERROR
    record.voided_at = utcnow()
    record.void_reason = reason
    record.updated_by = actor.username
    session.flush()


def void(session: Session, actor: Actor, patient_id: uuid.UUID, reason: str) -> Patient:
    """Mark a record entered-in-error; it is kept for the audit trail, never deleted."""
    patient = load(session, actor, patient_id, Permission.PATIENT_VOID)
    mark_entered_in_error(session, actor, patient, reason, "record")
    audit.record(
        session,
        actor,
        "void",
        "patient",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"reason": reason},
    )
    return patient
