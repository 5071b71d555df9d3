"""FHIR searches: patients by name, birth date and identifier; one patient's observations,
procedures, conditions and appointments. Scoped and audited through the areas' services.

A search for clinical resources names its patient (`patient=`), or is the patient's own; a search
can therefore never reach another clinic's records: the patient is loaded first, in scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource
from mesoclinic.fhir.mapping_patient import patient_resource
from mesoclinic.fhir.params import BadParameter, DateRange, Token
from mesoclinic.fhir.service import (
    Entry,
    appointment_entries,
    diagnosis_entries,
    history_entries,
    measurement_entries,
    visit_entries,
)
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.patients import service as patient_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission, Role


@dataclass(frozen=True)
class Page:
    resources: list[Resource]
    total: int


@dataclass(frozen=True)
class PatientSearch:
    name: str | None = None
    birthdate: object | None = None  # datetime.date
    identifier: Token | None = None


def _record_number_query(token: Token | None) -> tuple[str | None, uuid.UUID | None, bool]:
    """(record number, clinic, possible) for an identifier token."""
    if token is None:
        return None, None, True
    if token.system is None:
        return token.code, None, True
    clinic_id = codes.clinic_id_from_record_system(token.system)
    return token.code, clinic_id, clinic_id is not None


def search_patients(
    session: Session, actor: Actor, search: PatientSearch, *, count: int, offset: int
) -> Page:
    """Patients in the actor's scope (a patient finds only themselves); each one audited."""
    actor.require(Permission.FHIR_READ)
    record_number, clinic_id, possible = _record_number_query(search.identifier)
    if not possible:
        return Page([], 0)
    query = patient_service.PatientQuery(
        name=search.name,
        birth_date=search.birthdate,  # type: ignore[arg-type]
        record_number=record_number,
        clinic_id=clinic_id,
    )
    rows, total = patient_service.search(session, actor, query, limit=count, offset=offset)
    resources = []
    for patient in rows:
        audit.record(
            session,
            actor,
            "read",
            "patient",
            patient.id,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            detail={"via": "fhir search"},
        )
        clinic = session.get(Clinic, patient.clinic_id)
        resources.append(patient_resource(patient, clinic_name=clinic.name if clinic else None))
    return Page(resources, total)


def subject_of(actor: Actor, patient_ref: str | None) -> uuid.UUID:
    """The patient a clinical search is about: the named one, or a patient's own record."""
    if patient_ref is None:
        if actor.role is Role.PATIENT and actor.patient_id is not None:
            return actor.patient_id
        raise BadParameter("patient", "name the patient (patient=Patient/{id}) to search")
    try:
        return uuid.UUID(patient_ref)
    except ValueError as exc:
        raise BadParameter("patient", f"{patient_ref!r} is not a patient id") from exc


@dataclass(frozen=True)
class ClinicalSearch:
    patient_id: uuid.UUID
    dates: Sequence[DateRange] = ()
    code: Sequence[Token] = ()


def _matches(entry: Entry, search: ClinicalSearch) -> bool:
    if search.dates and (
        entry.when is None or not all(d.matches(entry.when) for d in search.dates)
    ):
        return False
    if search.code:
        codings = entry.resource.get("code", {}).get("coding", [])
        return any(token.matches(codings) for token in search.code)
    return True


def _of_type(entries: list[Entry], resource_type: str) -> list[Entry]:
    return [e for e in entries if e.resource["resourceType"] == resource_type]


def clinical_search(
    session: Session, actor: Actor, resource_type: str, search: ClinicalSearch, book: KindBook
) -> list[Resource]:
    """Every matching resource of one patient, in date order (paging is the caller's)."""
    actor.require(Permission.FHIR_READ)
    pid = search.patient_id
    entries: list[Entry] = []
    if resource_type == "Observation":
        if actor.can(Permission.HISTORY_READ):
            entries += _of_type(history_entries(session, actor, pid), "Observation")
        entries += measurement_entries(session, actor, pid, book)
    elif resource_type == "Procedure":
        entries = _of_type(visit_entries(session, actor, pid), "Procedure")
    elif resource_type == "Condition":
        if actor.can(Permission.ASSESSMENT_READ):
            entries += diagnosis_entries(session, actor, pid)
        entries += _of_type(history_entries(session, actor, pid), "Condition")
    elif resource_type == "Appointment":
        entries = appointment_entries(session, actor, pid)
    matching = [e for e in entries if _matches(e, search)]
    matching.sort(key=lambda e: (e.when is None, e.when, e.resource["id"]))
    return [e.resource for e in matching]
