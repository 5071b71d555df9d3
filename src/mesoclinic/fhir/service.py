"""A patient's record as FHIR resources, loaded through each area's own services.

Every row comes from an area's `get`/`list_for`/`load_owned`, so the permission, the clinic scope,
patient self-access and the read audit are the areas' own; this module adds only the FHIR shape.
A section whose permission the actor lacks (a patient and the assessment) is left out of
`$everything` rather than failing the whole record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.assessment import service as assessment_service
from mesoclinic.fhir.build import Resource
from mesoclinic.fhir.mapping_assessment import diagnosis_condition_resource
from mesoclinic.fhir.mapping_outcomes import (
    body_structure_resource,
    media_resource,
    observation_resource,
)
from mesoclinic.fhir.mapping_patient import (
    allergy_resource,
    consent_resource,
    history_condition_resource,
    medication_statement_resource,
    patient_resource,
    pregnancy_observation_resource,
)
from mesoclinic.fhir.mapping_plans import appointment_resource, careplan_resource
from mesoclinic.fhir.mapping_provenance import photo_consent_resource, provenance_resource
from mesoclinic.fhir.mapping_visits import (
    administration_resources,
    adverse_event_resource,
    procedure_resource,
)
from mesoclinic.outcomes import images as image_service
from mesoclinic.outcomes import photo_consent as photo_consent_service
from mesoclinic.outcomes import service as outcome_service
from mesoclinic.outcomes import sites as site_service
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import ClinicalImage
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import history as history_service
from mesoclinic.patients import service as patient_service
from mesoclinic.plans import appointments as appointment_service
from mesoclinic.plans import service as plan_service
from mesoclinic.plans.models import Appointment
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic, User
from mesoclinic.security.permissions import Permission
from mesoclinic.visits import service as visit_service
from mesoclinic.visits.models import Visit


@dataclass
class Entry:
    """One resource with what its Provenance and the date searches need."""

    resource: Resource
    when: datetime | None = None  # effective / performed / start time, for `date` searches
    recorded_at: datetime | None = None
    recorded_by: str = ""
    also: list[Resource] = field(default_factory=list)  # recorded together (a visit's parts)


def _clinic_name(session: Session, clinic_id: uuid.UUID) -> str | None:
    clinic = session.get(Clinic, clinic_id)
    return clinic.name if clinic else None


def staff_names(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    """The staff accounts behind these user ids (for performer names)."""
    ids = set(user_ids)
    if not ids:
        return {}
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()}


def _practitioner(users: dict[uuid.UUID, User], user_id: uuid.UUID) -> tuple[str, str]:
    user = users.get(user_id)
    if user is None:
        return str(user_id), str(user_id)
    return user.username, user.display_name or user.username


# --- sections of the record -------------------------------------------------------------------
def patient_entry(session: Session, actor: Actor, patient_id: uuid.UUID) -> Entry:
    """The Patient (audited read)."""
    patient = patient_service.get(session, actor, patient_id)
    resource = patient_resource(patient, clinic_name=_clinic_name(session, patient.clinic_id))
    return Entry(resource, None, patient.created_at, patient.created_by)


def history_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """Allergies, medicines, conditions and pregnancy statuses of the medical history."""
    patient = history_service.read(session, actor, patient_id)
    entries = [
        Entry(allergy_resource(a), a.recorded_at, a.recorded_at, a.recorded_by)
        for a in patient.allergies
    ]
    entries += [
        Entry(medication_statement_resource(m), m.recorded_at, m.recorded_at, m.recorded_by)
        for m in patient.medications
    ]
    entries += [
        Entry(history_condition_resource(c), c.recorded_at, c.recorded_at, c.recorded_by)
        for c in patient.conditions
    ]
    entries += [
        Entry(pregnancy_observation_resource(p), p.recorded_at, p.recorded_at, p.recorded_by)
        for p in patient.pregnancy_statuses
    ]
    return entries


def diagnosis_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """One Condition per assessment (the diagnosis with its stage)."""
    return [
        Entry(diagnosis_condition_resource(a), a.assessed_at, a.assessed_at, a.assessed_by)
        for a in assessment_service.list_for(session, actor, patient_id)
    ]


def consent_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """Procedure consents and, for staff and the patient, photo-use consents."""
    entries = [
        Entry(consent_resource(c), c.signed_at, c.recorded_at, c.recorded_by)
        for c in consent_service.list_for(session, actor, patient_id)
    ]
    if actor.can(Permission.OUTCOME_READ):
        entries += [
            Entry(photo_consent_resource(c), c.signed_at, c.recorded_at, c.recorded_by)
            for c in photo_consent_service.list_for(session, actor, patient_id)
        ]
    return entries


def visit_entries_of(visit: Visit, users: dict[uuid.UUID, User]) -> list[Entry]:
    username, name = _practitioner(users, visit.practitioner_id)
    procedure = procedure_resource(visit, practitioner=username, practitioner_name=name)
    parts = administration_resources(visit, practitioner=username, practitioner_name=name)
    parts += [adverse_event_resource(e, visit) for e in visit.adverse_events if e.type != "none"]
    main = Entry(procedure, visit.performed_at, visit.created_at, visit.created_by, parts)
    return [main] + [Entry(p, visit.performed_at) for p in parts]


def visit_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """Per visit: the Procedure, its MedicationAdministrations and AdverseEvents."""
    visits = visit_service.list_for_patient(session, actor, patient_id)
    users = staff_names(session, (v.practitioner_id for v in visits))
    return [entry for visit in visits for entry in visit_entries_of(visit, users)]


def plan_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """One CarePlan per treatment plan."""
    return [
        Entry(careplan_resource(p), p.created_at, p.created_at, p.created_by)
        for p in plan_service.list_for_patient(session, actor, patient_id)
    ]


def appointment_entry(appointment: Appointment, users: dict[uuid.UUID, User]) -> Entry:
    username, name = _practitioner(users, appointment.practitioner_id)
    resource = appointment_resource(appointment, practitioner=username, practitioner_name=name)
    return Entry(resource, appointment.starts_at, appointment.created_at, appointment.created_by)


def appointment_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """One Appointment per booking."""
    rows = appointment_service.list_for(session, actor, patient_id)
    users = staff_names(session, (a.practitioner_id for a in rows))
    return [appointment_entry(a, users) for a in rows]


def media_of(session: Session, image: ClinicalImage) -> Resource:
    """The image's Media, with the file's address only while photo consent covers the record."""
    consented = "clinical_record" in photo_consent_service.scopes(session, image.patient_id)
    return media_resource(image, with_binary=consented)


def measurement_entries(
    session: Session, actor: Actor, patient_id: uuid.UUID, book: KindBook
) -> list[Entry]:
    """One Observation per current measurement (superseded values left out, voided kept)."""
    measurements = outcome_service.list_for(
        session, actor, patient_id, outcome_service.MeasurementQuery(include_voided=True)
    )
    return [
        Entry(observation_resource(m, book.get(m.kind)), m.measured_at, m.created_at, m.recorded_by)
        for m in measurements
    ]


def outcome_entries(
    session: Session, actor: Actor, patient_id: uuid.UUID, book: KindBook
) -> list[Entry]:
    """Marked sites, images and current measurements."""
    entries = [
        Entry(body_structure_resource(s), None, s.created_at, s.created_by)
        for s in site_service.list_for(session, actor, patient_id)
    ]
    entries += [
        Entry(media_of(session, i), i.taken_at, i.created_at, i.created_by)
        for i in image_service.list_for(session, actor, patient_id)
    ]
    return entries + measurement_entries(session, actor, patient_id, book)


SECTIONS: tuple[tuple[Permission, str], ...] = (
    (Permission.HISTORY_READ, "history"),
    (Permission.ASSESSMENT_READ, "diagnosis"),
    (Permission.CONSENT_READ, "consent"),
    (Permission.PLAN_READ, "plan"),
    (Permission.APPOINTMENT_READ, "appointment"),
    (Permission.VISIT_READ, "visit"),
    (Permission.OUTCOME_READ, "outcome"),
)


def record_entries(
    session: Session, actor: Actor, patient_id: uuid.UUID, book: KindBook
) -> list[Entry]:
    """The whole record the actor may read: the Patient first, then each section."""
    actor.require(Permission.FHIR_READ)
    entries = [patient_entry(session, actor, patient_id)]
    loaders: dict[str, Callable[[], list[Entry]]] = {
        "history": lambda: history_entries(session, actor, patient_id),
        "diagnosis": lambda: diagnosis_entries(session, actor, patient_id),
        "consent": lambda: consent_entries(session, actor, patient_id),
        "plan": lambda: plan_entries(session, actor, patient_id),
        "appointment": lambda: appointment_entries(session, actor, patient_id),
        "visit": lambda: visit_entries(session, actor, patient_id),
        "outcome": lambda: outcome_entries(session, actor, patient_id, book),
    }
    for permission, name in SECTIONS:
        if actor.can(permission):
            entries += loaders[name]()
    return entries


def provenance_of(entry: Entry) -> Resource | None:
    """Who recorded the entry's resource (and what was recorded with it), or None."""
    if entry.recorded_at is None:
        return None
    return provenance_resource(
        [entry.resource, *entry.also], recorded_at=entry.recorded_at, username=entry.recorded_by
    )


def everything(
    session: Session, actor: Actor, patient_id: uuid.UUID, book: KindBook
) -> list[Resource]:
    """`Patient/{id}/$everything`: every resource of the record, then who recorded each."""
    entries = record_entries(session, actor, patient_id, book)
    provenances = [p for p in (provenance_of(e) for e in entries) if p is not None]
    return [e.resource for e in entries] + provenances
