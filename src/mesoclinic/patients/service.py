"""Patient record use cases: register, find, read, update, void. Services flush, never commit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import InvalidInput, InvalidTransition, NotFound
from mesoclinic.patients import search_keys
from mesoclinic.patients.models import Patient
from mesoclinic.patients.schemas import PatientCreate, PatientUpdate
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission, Role

# A time a few minutes ahead of the server clock is a clock difference, not the future.
CLOCK_SKEW = timedelta(minutes=10)
# A date (no time) is "in the future" only once it is tomorrow everywhere (UTC+14).
LATEST_ZONE_AHEAD = timedelta(hours=14)


def check_clinical_date(
    patient: Patient,
    value: date | datetime | None,
    field: str,
    label: str,
    *,
    may_be_future: bool = False,
) -> None:
    """Refuse a clinical date before the patient's birth, or in the future: 422 naming it.

    The one check every area runs on the dates it records about a patient (consent, history,
    assessment, visit, measurement, image, plan); `label` says the field in plain words.
    """
    if value is None:
        return
    now = utcnow()
    day = value.date() if isinstance(value, datetime) else value
    if day < patient.birth_date:
        raise InvalidInput(
            f"{label} ({day:%d %b %Y}) is before the patient's birth date "
            f"({patient.birth_date:%d %b %Y})",
            field,
        )
    if may_be_future:
        return
    future = (
        value > now + CLOCK_SKEW
        if isinstance(value, datetime)
        else value > (now + LATEST_ZONE_AHEAD).date()
    )
    if future:
        raise InvalidInput(f"{label} cannot be in the future", field)


def _next_record_number(session: Session, clinic_id: uuid.UUID) -> str:
    clinic = session.get(Clinic, clinic_id, with_for_update=True)
    if clinic is None:
        raise NotFound("Clinic not found", "clinic_id")
    clinic.record_seq += 1
    return f"MC-{clinic.record_seq:06d}"


def create(
    session: Session, actor: Actor, data: PatientCreate, clinic_id: uuid.UUID | None = None
) -> Patient:
    """Register a patient in the actor's clinic (a group admin names the clinic; naming another
    clinic than one's own is refused)."""
    actor.require(Permission.PATIENT_WRITE)
    if actor.role is Role.PATIENT:
        raise InvalidInput("Patients cannot register other patients")
    target_clinic = actor.target_clinic(clinic_id, "this patient")
    patient = Patient(
        **data.model_dump(),
        clinic_id=target_clinic,
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


# A search counts at most this many matches: the total of a page says "1000+" beyond it, so no
# page ever counts a whole clinic (docs/decisions.md, "Search uses indexes").
COUNT_CAP = 1000
PHONE_TEXT = re.compile(r"^\+?[\d\s().-]*\d[\d\s().-]*$")
RECORD_NUMBER = re.compile(r"^[A-Za-z]{1,4}-?\d*$")
# A typed name of at least this many characters matches anywhere in the given or family name
# ("art" finds Martin); a shorter one matches their start. PostgreSQL serves the first with
# trigram indexes (pg_trgm, migration 0018), the second with the key columns' b-trees.
CONTAINS_MIN = 3


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range an index on the column serves.

    The key columns compare bytewise on both databases (COLLATE "C" on PostgreSQL), so every
    string starting with the prefix lies in [prefix, prefix + U+10FFFF).
    """
    return and_(column >= prefix, column < search_keys.prefix_upper_bound(prefix))


def _is_phone(term: str, phone: str | None) -> bool:
    return bool(phone) and len(phone or "") == len(re.sub(r"[\s+().-]", "", term))


def _is_record_number(term: str) -> bool:
    return bool(RECORD_NUMBER.match(term)) and any(ch.isdigit() for ch in term)


def _term_clause(term: str) -> ColumnElement[bool] | None:
    """What one typed word matches: a record number, a phone number or a part of a name."""
    phone = search_keys.digits(term)
    if phone and _is_phone(term, phone):
        clauses = [Patient.record_number == f"MC-{int(phone):06d}"] if len(phone) <= 6 else []
        if len(phone) >= 3:
            clauses += [
                _prefix(Patient.phone_digits, phone),
                _prefix(Patient.phone_reversed, phone[::-1]),
            ]
        return or_(*clauses) if clauses else None
    if _is_record_number(term):
        number = term.upper()
        if "-" not in number:
            letters = number.rstrip("0123456789")
            number = f"{letters}-{number[len(letters) :]}"
        return _prefix(Patient.record_number, number)
    key = search_keys.name_key(term)
    if not key:  # only punctuation: it matches no name
        return false()
    return _name_clause(key)


def _name_clause(key: str) -> ColumnElement[bool]:
    """A typed name (normalised key): inside the given or family name when it has
    `CONTAINS_MIN` characters or more, at their start when shorter."""
    if len(key) >= CONTAINS_MIN:
        # The key holds only a-z, 0-9 and spaces: nothing to escape. A literal pattern (not
        # '%' || :key || '%') lets the planner pick the trigram index.
        pattern = f"%{key}%"
        return or_(Patient.family_key.like(pattern), Patient.given_key.like(pattern))
    return or_(_prefix(Patient.family_key, key), _prefix(Patient.given_key, key))


def _terms(text: str) -> list[str]:
    # "020 7946 0001" is one phone number, not three words.
    return [text] if PHONE_TEXT.match(text) else text.split()


def _searches_inside_names(query: PatientQuery) -> bool:
    """Whether a word of the search is a part of a name matched anywhere (`_name_clause`)."""
    return any(
        not _is_phone(term, search_keys.digits(term))
        and not _is_record_number(term)
        and len(search_keys.name_key(term)) >= CONTAINS_MIN
        for term in _terms((query.text or "").strip())
    )


def search_query(actor: Actor, query: PatientQuery) -> Select[Patient]:
    stmt = select(Patient)
    if actor.role is Role.PATIENT:
        stmt = stmt.where(Patient.id == actor.patient_id)
    elif not actor.is_group_admin:
        stmt = stmt.where(Patient.clinic_id == actor.clinic_id)
    if not query.include_voided:
        stmt = stmt.where(Patient.status == RecordStatus.ACTIVE)
    if query.birth_date:
        stmt = stmt.where(Patient.birth_date == query.birth_date)
    for term in _terms((query.text or "").strip()):
        clause = _term_clause(term)
        if clause is not None:
            stmt = stmt.where(clause)
    if query.record_number is not None:
        stmt = stmt.where(Patient.record_number == query.record_number)
    if query.clinic_id is not None:
        stmt = stmt.where(Patient.clinic_id == query.clinic_id)
    # FHIR string search: each word starts the given or the family name.
    for word in (query.name or "").split():
        key = search_keys.name_key(word)
        if key:
            stmt = stmt.where(
                or_(_prefix(Patient.family_key, key), _prefix(Patient.given_key, key))
            )
    return stmt


@dataclass(frozen=True)
class Found:
    """One page of a search: the rows, the number of matches (capped) and whether it was."""

    rows: Sequence[Patient]
    total: int
    capped: bool


def find(
    session: Session, actor: Actor, query: PatientQuery, *, limit: int = 25, offset: int = 0
) -> Found:
    """Find patients by a part of their name (anywhere in it from three characters, its start
    below), record-number prefix, phone digits (start or end) or date of birth in the actor's
    scope; the total counts at most `COUNT_CAP` matches."""
    actor.require(Permission.PATIENT_READ)
    stmt = search_query(actor, query)
    rows = session.execute(page_of(stmt, query, limit, offset)).scalars().all()
    counted = count_matches(session, stmt, query, len(rows), limit, offset)
    audit_search(session, actor, query, [p.id for p in rows])
    return Found(rows, min(counted, COUNT_CAP), counted > COUNT_CAP)


def _in_name_order(stmt: Select[Any], query: PatientQuery) -> Select[Any]:
    if _searches_inside_names(query):
        # The matches of a part of a name cluster in name order (every "Fernandez" together),
        # so walking the clinic's name-ordered index until 25 match can read half the clinic.
        # Sorting by `key || ''` (same order, bytewise) leaves that index out: the planner
        # collects the matches through the trigram indexes and sorts them.
        return stmt.order_by(
            Patient.family_key.concat(""), Patient.given_key.concat(""), Patient.id
        )
    return stmt.order_by(Patient.family_key, Patient.given_key, Patient.id)


def page_of(stmt: Select[Any], query: PatientQuery, limit: int, offset: int) -> Select[Any]:
    return _in_name_order(stmt, query).limit(limit).offset(offset)


def count_matches(
    session: Session, stmt: Select[Any], query: PatientQuery, found: int, limit: int, offset: int
) -> int:
    """The matches, up to `COUNT_CAP` + 1, of a search whose page held `found` rows."""
    if found < limit and (found or offset == 0):
        return offset + found  # the last page: the matches end here, nothing to count
    # Counted in the page's own order, so the count walks the same index as the page (a
    # bare LIMIT lets PostgreSQL scan the table itself until it has enough rows).
    in_order = _in_name_order(stmt, query).with_only_columns(Patient.id)
    return session.execute(
        select(func.count()).select_from(in_order.limit(COUNT_CAP + 1).subquery())
    ).scalar_one()


def audit_search(
    session: Session, actor: Actor, query: PatientQuery, returned: list[uuid.UUID]
) -> None:
    detail = {
        "text": query.text,
        "birth_date": query.birth_date,
        "returned": [str(i) for i in returned],
    }
    audit.record(session, actor, "search", "patient", None, detail=detail)


def search(
    session: Session, actor: Actor, query: PatientQuery, *, limit: int = 25, offset: int = 0
) -> tuple[Sequence[Patient], int]:
    """`find` as (rows, total) for callers that show no "more than" mark."""
    found = find(session, actor, query, limit=limit, offset=offset)
    return found.rows, found.total


def update(session: Session, actor: Actor, patient_id: uuid.UUID, data: PatientUpdate) -> Patient:
    """Change the fields that were sent; voided records are read-only."""
    patient = load(session, actor, patient_id, Permission.PATIENT_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(patient, name, value)
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
