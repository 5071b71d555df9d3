"""Medical history: allergies, medications, conditions and pregnancy status over time."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import InvalidTransition, NotFound
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import (
    Allergy,
    Condition,
    HistoryItem,
    Medication,
    Patient,
    PregnancyStatus,
)
from mesoclinic.patients.schemas import (
    AllergyCreate,
    ConditionCreate,
    MedicationCreate,
    PregnancyStatusCreate,
)
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

HISTORY_KINDS: dict[str, type[Any]] = {
    "allergies": Allergy,
    "medications": Medication,
    "conditions": Condition,
    "pregnancy-statuses": PregnancyStatus,
}
HistoryKind = Literal["allergies", "medications", "conditions", "pregnancy-statuses"]
HistoryCreate = AllergyCreate | MedicationCreate | ConditionCreate | PregnancyStatusCreate
# History dates in plain words; a medication may be planned to stop on a future day.
DATE_LABELS = {
    "started_on": "The start date",
    "stopped_on": "The stop date",
    "onset_on": "The onset date",
}
MAY_BE_FUTURE = frozenset({"stopped_on"})


def read(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """The patient with every history list loaded, auditing the read."""
    patient = patient_service.load(session, actor, patient_id, Permission.HISTORY_READ)
    audit.record(
        session,
        actor,
        "read",
        "medical_history",
        patient.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return patient


def add(
    session: Session, actor: Actor, patient_id: uuid.UUID, kind: str, data: HistoryCreate
) -> HistoryItem:
    """Record one history entry of `kind` (allergies, medications, ...)."""
    patient = patient_service.load(session, actor, patient_id, Permission.HISTORY_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    for name, value in data.model_dump().items():
        if isinstance(value, date):
            label = DATE_LABELS.get(name, name.replace("_", " ").capitalize())
            patient_service.check_clinical_date(
                patient, value, name, label, may_be_future=name in MAY_BE_FUTURE
            )
    model = HISTORY_KINDS[kind]
    item: HistoryItem = model(
        patient_id=patient.id, recorded_by=actor.username, **data.model_dump()
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        model.__tablename__,
        item.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return item


def void_item(
    session: Session, actor: Actor, patient_id: uuid.UUID, kind: str, item_id: uuid.UUID
) -> HistoryItem:
    """Mark an entry entered-in-error (it stays visible in the record's history)."""
    patient = patient_service.load(session, actor, patient_id, Permission.HISTORY_WRITE)
    model = HISTORY_KINDS[kind]
    item: HistoryItem | None = session.get(model, item_id)
    if item is None or item.patient_id != patient.id:
        raise NotFound("History entry not found")
    if item.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This entry is already voided")
    item.status = RecordStatus.ENTERED_IN_ERROR
    session.flush()
    audit.record(
        session,
        actor,
        "void",
        model.__tablename__,
        item.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return item


def active(items: list[Any]) -> list[Any]:
    return [i for i in items if i.status == RecordStatus.ACTIVE]
