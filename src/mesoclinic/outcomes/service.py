"""Measurement use cases: record (by hand, from a device, from an image analysis), read, void,
correct. Values are checked against the measurement-kinds rulebook; nothing is ever deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import InvalidInput, InvalidTransition
from mesoclinic.outcomes import sites
from mesoclinic.outcomes.kinds import KindBook, MeasurementKind, check_measurement
from mesoclinic.outcomes.models import (
    Measurement,
    MeasurementSite,
    MeasurementSource,
    MeasurementStatus,
)
from mesoclinic.outcomes.schemas import MeasurementCorrection, MeasurementCreate
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import User
from mesoclinic.security.permissions import Permission
from mesoclinic.visits.models import Visit


@dataclass(frozen=True)
class MeasurementQuery:
    kind: str | None = None
    site_id: uuid.UUID | None = None
    include_voided: bool = False
    include_superseded: bool = False


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    measurement: Measurement | None,
    patient: Patient,
    **detail: object,
) -> None:
    audit.record(
        session,
        actor,
        action,
        "measurement",
        measurement.id if measurement else None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail=dict(detail) or None,
    )


def _kind(book: KindBook, code: str) -> MeasurementKind:
    kind = book.get(code)
    if kind is None:
        raise InvalidInput(f"'{code}' is not a measurement kind of this clinic", "kind")
    return kind


def _check_value(
    kind: MeasurementKind, value: float, unit: str, site_id: uuid.UUID | None, rater: str | None
) -> None:
    problems = check_measurement(
        kind, value=value, unit=unit, has_site=site_id is not None, rater=rater
    )
    if problems:
        field, message = problems[0]
        raise InvalidInput(message[:1].upper() + message[1:], field)


def _check_site(session: Session, patient: Patient, site_id: uuid.UUID | None) -> None:
    if site_id is None:
        return
    site = session.get(MeasurementSite, site_id)
    if site is None or site.patient_id != patient.id:
        raise InvalidInput("That site is not one of this patient's marked sites", "site_id")
    if site.status is not RecordStatus.ACTIVE:
        raise InvalidInput("That site was marked entered in error; choose another", "site_id")


def _check_visit(session: Session, patient: Patient, visit_id: uuid.UUID | None) -> None:
    if visit_id is None:
        return
    visit = session.get(Visit, visit_id)
    if visit is None or visit.patient_id != patient.id:
        raise InvalidInput("That visit is not one of this patient's visits", "visit_id")


def create(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: MeasurementCreate, book: KindBook
) -> Measurement:
    """Record a value entered by the actor or read off a named device."""
    patient = sites.writable_patient(session, actor, patient_id)
    patient_service.check_clinical_date(
        patient, data.measured_at, "measured_at", "The measurement time"
    )
    kind = _kind(book, data.kind)
    _check_value(kind, data.value, data.unit, data.site_id, data.rater)
    _check_site(session, patient, data.site_id)
    _check_visit(session, patient, data.visit_id)
    measurement = Measurement(
        patient_id=patient.id,
        site_id=data.site_id,
        visit_id=data.visit_id,
        kind=kind.code,
        value=data.value,
        unit=data.unit,
        measured_at=data.measured_at,
        source=MeasurementSource(data.source),
        recorded_by=actor.username,
        device_name=data.device_name,
        rater=data.rater,
        blinded=bool(data.blinded) if kind.needs_rater else data.blinded,
        note=data.note,
    )
    session.add(measurement)
    session.flush()
    _audit(session, actor, "create", measurement, patient, kind=kind.code, source=data.source)
    return measurement


@dataclass(frozen=True)
class AnalysisValue:
    """One figure an analysis job produced, with the image and algorithm it came from."""

    kind: str
    value: float
    unit: str
    image_id: uuid.UUID
    algorithm_version: str
    measured_at: datetime
    site_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    analysis_id: uuid.UUID | None = None
    note: str | None = None


def record_from_analysis(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    result: AnalysisValue,
    book: KindBook,
) -> Measurement:
    """Store a value computed from a stored image (called by the analysis jobs, not by users)."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_WRITE)
    if not result.algorithm_version.strip():
        raise InvalidInput(
            "An image-analysis value needs its algorithm version", "algorithm_version"
        )
    kind = _kind(book, result.kind)
    _check_value(kind, result.value, result.unit, result.site_id, None)
    _check_site(session, patient, result.site_id)
    _check_visit(session, patient, result.visit_id)
    measurement = Measurement(
        patient_id=patient.id,
        site_id=result.site_id,
        visit_id=result.visit_id,
        kind=kind.code,
        value=result.value,
        unit=result.unit,
        measured_at=result.measured_at,
        source=MeasurementSource.IMAGE_ANALYSIS,
        recorded_by=actor.username,
        algorithm_version=result.algorithm_version,
        image_id=result.image_id,
        analysis_id=result.analysis_id,
        note=result.note,
    )
    session.add(measurement)
    session.flush()
    _audit(session, actor, "create", measurement, patient, kind=kind.code, source="image-analysis")
    return measurement


def _load(
    session: Session, actor: Actor, measurement_id: uuid.UUID, permission: Permission
) -> tuple[Measurement, Patient]:
    measurement = patient_service.load_owned(
        session, actor, Measurement, measurement_id, permission, "Measurement"
    )
    patient = patient_service.load(session, actor, measurement.patient_id, permission)
    return measurement, patient


def get(session: Session, actor: Actor, measurement_id: uuid.UUID) -> Measurement:
    """One measurement the actor may see (patients: their own), auditing the read."""
    measurement, patient = _load(session, actor, measurement_id, Permission.OUTCOME_READ)
    _audit(session, actor, "read", measurement, patient)
    return measurement


def list_for(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    query: MeasurementQuery = MeasurementQuery(),
    book: KindBook | None = None,
) -> Sequence[Measurement]:
    """A patient's measurements, newest first, auditing the read.

    Voided and superseded values are left out unless asked for (the history shows them).
    """
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    if query.kind is not None and book is not None:
        _kind(book, query.kind)
    stmt = select(Measurement).where(Measurement.patient_id == patient.id)
    if query.kind is not None:
        stmt = stmt.where(Measurement.kind == query.kind)
    if query.site_id is not None:
        stmt = stmt.where(Measurement.site_id == query.site_id)
    if not query.include_voided:
        stmt = stmt.where(Measurement.status != MeasurementStatus.ENTERED_IN_ERROR)
    if not query.include_superseded:
        stmt = stmt.where(Measurement.superseded_at.is_(None))
    stmt = stmt.order_by(Measurement.measured_at.desc(), Measurement.created_at.desc())
    rows = session.execute(stmt).scalars().all()
    _audit(session, actor, "read", None, patient, count=len(rows), kind=query.kind)
    return rows


def _current(
    session: Session, actor: Actor, measurement_id: uuid.UUID
) -> tuple[Measurement, Patient]:
    measurement, patient = _load(session, actor, measurement_id, Permission.OUTCOME_WRITE)
    sites.writable_patient(session, actor, patient.id)
    if measurement.status is MeasurementStatus.ENTERED_IN_ERROR:
        raise InvalidTransition("This value is already marked entered in error")
    if measurement.superseded_at is not None:
        raise InvalidTransition("This value was corrected; change the correction instead")
    return measurement, patient


def void(session: Session, actor: Actor, measurement_id: uuid.UUID, reason: str) -> Measurement:
    """Mark a value entered in error; it stays in the record with the reason."""
    measurement, patient = _current(session, actor, measurement_id)
    measurement.status = MeasurementStatus.ENTERED_IN_ERROR
    measurement.void_reason = reason
    session.flush()
    _audit(session, actor, "void", measurement, patient, reason=reason)
    return measurement


def correct(
    session: Session,
    actor: Actor,
    measurement_id: uuid.UUID,
    data: MeasurementCorrection,
    book: KindBook,
) -> Measurement:
    """Store a corrected value as a new row beside the original, which is marked superseded."""
    original, patient = _current(session, actor, measurement_id)
    kind = _kind(book, original.kind)
    unit = data.unit or original.unit
    rater = data.rater if data.rater is not None else original.rater
    _check_value(kind, data.value, unit, original.site_id, rater)
    correction = Measurement(
        patient_id=original.patient_id,
        site_id=original.site_id,
        visit_id=original.visit_id,
        kind=original.kind,
        value=data.value,
        unit=unit,
        measured_at=data.measured_at or original.measured_at,
        source=MeasurementSource.MANUAL,  # a person typed the corrected value
        recorded_by=actor.username,
        rater=rater,
        blinded=data.blinded if data.blinded is not None else original.blinded,
        note=data.reason,
        status=MeasurementStatus.CORRECTED,
        corrects_id=original.id,
    )
    session.add(correction)
    original.superseded_at = utcnow()
    session.flush()
    _audit(session, actor, "correct", correction, patient, corrects=str(original.id))
    return correction


def recorder_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """Display names of the users who entered values ("Dr Claire Moreau" for dr.moreau)."""
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames))
    ).all()
    return {username: name or username for username, name in rows}
