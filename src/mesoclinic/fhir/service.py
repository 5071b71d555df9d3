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
from mesoclinic.assessment.models import Assessment
from mesoclinic.errors import NotFound
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
from mesoclinic.outcomes.models import ClinicalImage, PhotoConsent
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import history as history_service
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Allergy, Condition, Consent, Medication, PregnancyStatus
from mesoclinic.plans import appointments as appointment_service
from mesoclinic.plans import service as plan_service
from mesoclinic.plans.models import Appointment
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic, User
from mesoclinic.security.permissions import Permission
from mesoclinic.visits import service as visit_service
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot


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


def _staff_names(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
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


def _visit_entries(visit: Visit, users: dict[uuid.UUID, User]) -> list[Entry]:
    username, name = _practitioner(users, visit.practitioner_id)
    procedure = procedure_resource(visit, practitioner=username, practitioner_name=name)
    parts = administration_resources(visit, practitioner=username, practitioner_name=name)
    parts += [adverse_event_resource(e, visit) for e in visit.adverse_events if e.type != "none"]
    main = Entry(procedure, visit.performed_at, visit.created_at, visit.created_by, parts)
    return [main] + [Entry(p, visit.performed_at) for p in parts]


def visit_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """Per visit: the Procedure, its MedicationAdministrations and AdverseEvents."""
    visits = visit_service.list_for_patient(session, actor, patient_id)
    users = _staff_names(session, (v.practitioner_id for v in visits))
    return [entry for visit in visits for entry in _visit_entries(visit, users)]


def plan_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """One CarePlan per treatment plan."""
    return [
        Entry(careplan_resource(p), p.created_at, p.created_at, p.created_by)
        for p in plan_service.list_for_patient(session, actor, patient_id)
    ]


def _appointment_entry(appointment: Appointment, users: dict[uuid.UUID, User]) -> Entry:
    username, name = _practitioner(users, appointment.practitioner_id)
    resource = appointment_resource(appointment, practitioner=username, practitioner_name=name)
    return Entry(resource, appointment.starts_at, appointment.created_at, appointment.created_by)


def appointment_entries(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Entry]:
    """One Appointment per booking."""
    rows = appointment_service.list_for(session, actor, patient_id)
    users = _staff_names(session, (a.practitioner_id for a in rows))
    return [_appointment_entry(a, users) for a in rows]


def _media(session: Session, image: ClinicalImage) -> Resource:
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
        Entry(_media(session, i), i.taken_at, i.created_at, i.created_by)
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


# --- read one resource by type and id ---------------------------------------------------------
def _owned(
    session: Session,
    actor: Actor,
    model: type[Allergy | Medication | Condition | PregnancyStatus | Consent | PhotoConsent],
    record_id: uuid.UUID,
    permission: Permission,
    entity: str,
) -> object:
    row = patient_service.load_owned(session, actor, model, record_id, permission, entity)
    patient = patient_service.load(session, actor, row.patient_id, permission)
    audit.record(
        session, actor, "read", entity, row.id, patient_id=patient.id, clinic_id=patient.clinic_id
    )
    return row


def _visit_of_part(session: Session, actor: Actor, part_id: uuid.UUID) -> Visit:
    lot = session.get(VisitLot, part_id)
    event = session.get(AdverseEvent, part_id) if lot is None else None
    visit_id = lot.visit_id if lot else event.visit_id if event else part_id
    return visit_service.get_visit(session, actor, visit_id)


def _read_visit_part(
    session: Session, actor: Actor, resource_type: str, part_id: uuid.UUID
) -> Entry:
    visit = _visit_of_part(session, actor, part_id)
    users = _staff_names(session, [visit.practitioner_id])
    for entry in _visit_entries(visit, users):
        resource = entry.resource
        if resource["resourceType"] == resource_type and resource["id"] == str(part_id):
            return entry
    raise NotFound(f"{resource_type} not found")


def _read_patient(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    return patient_entry(session, actor, rid)


def _read_condition(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    try:
        patient_id = patient_service.load_owned(
            session, actor, Assessment, rid, Permission.ASSESSMENT_READ, "Condition"
        ).patient_id
    except NotFound:
        row = _owned(session, actor, Condition, rid, Permission.HISTORY_READ, "condition")
        assert isinstance(row, Condition)
        return Entry(history_condition_resource(row), None, row.recorded_at, row.recorded_by)
    a = assessment_service.get(session, actor, patient_id, rid)
    return Entry(diagnosis_condition_resource(a), a.assessed_at, a.assessed_at, a.assessed_by)


def _read_allergy(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, Allergy, rid, Permission.HISTORY_READ, "allergy")
    assert isinstance(row, Allergy)
    return Entry(allergy_resource(row), None, row.recorded_at, row.recorded_by)


def _read_medication(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, Medication, rid, Permission.HISTORY_READ, "medication")
    assert isinstance(row, Medication)
    return Entry(medication_statement_resource(row), None, row.recorded_at, row.recorded_by)


def _read_observation(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    try:
        m = outcome_service.get(session, actor, rid)
    except NotFound:
        row = _owned(session, actor, PregnancyStatus, rid, Permission.HISTORY_READ, "pregnancy")
        assert isinstance(row, PregnancyStatus)
        resource = pregnancy_observation_resource(row)
        return Entry(resource, row.recorded_at, row.recorded_at, row.recorded_by)
    resource = observation_resource(m, book.get(m.kind))
    return Entry(resource, m.measured_at, m.created_at, m.recorded_by)


def _read_consent(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    try:
        row = _owned(session, actor, Consent, rid, Permission.CONSENT_READ, "consent")
    except NotFound:
        photo = _owned(session, actor, PhotoConsent, rid, Permission.OUTCOME_READ, "photo_consent")
        assert isinstance(photo, PhotoConsent)
        return Entry(photo_consent_resource(photo), None, photo.recorded_at, photo.recorded_by)
    assert isinstance(row, Consent)
    return Entry(consent_resource(row), None, row.recorded_at, row.recorded_by)


def _read_procedure(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    visit = visit_service.get_visit(session, actor, rid)
    return _visit_entries(visit, _staff_names(session, [visit.practitioner_id]))[0]


def _read_administration(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    return _read_visit_part(session, actor, "MedicationAdministration", rid)


def _read_adverse_event(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    return _read_visit_part(session, actor, "AdverseEvent", rid)


def _read_careplan(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    plan = plan_service.get(session, actor, rid)
    return Entry(careplan_resource(plan), plan.created_at, plan.created_at, plan.created_by)


def _read_appointment(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    appointment = appointment_service.get(session, actor, rid)
    return _appointment_entry(appointment, _staff_names(session, [appointment.practitioner_id]))


def _read_media(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    image = image_service.get(session, actor, rid)
    return Entry(_media(session, image), image.taken_at, image.created_at, image.created_by)


def _read_body_structure(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    site = site_service.load(session, actor, rid, Permission.OUTCOME_READ)
    patient = patient_service.load(session, actor, site.patient_id, Permission.OUTCOME_READ)
    audit.record(
        session,
        actor,
        "read",
        "measurement_site",
        site.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    return Entry(body_structure_resource(site), None, site.created_at, site.created_by)


Reader = Callable[[Session, Actor, uuid.UUID, KindBook], Entry]
READERS: dict[str, Reader] = {
    "Patient": _read_patient,
    "Condition": _read_condition,
    "AllergyIntolerance": _read_allergy,
    "MedicationStatement": _read_medication,
    "Observation": _read_observation,
    "Consent": _read_consent,
    "Procedure": _read_procedure,
    "MedicationAdministration": _read_administration,
    "AdverseEvent": _read_adverse_event,
    "CarePlan": _read_careplan,
    "Appointment": _read_appointment,
    "Media": _read_media,
    "BodyStructure": _read_body_structure,
}
# A Provenance has its first target's id: look for that target among these types.
PROVENANCE_TARGETS = tuple(t for t in READERS if t not in ("MedicationAdministration",))


def read(
    session: Session, actor: Actor, resource_type: str, resource_id: uuid.UUID, book: KindBook
) -> Resource:
    """`GET /fhir/{type}/{id}`: one resource, scoped and audited by its area's service."""
    actor.require(Permission.FHIR_READ)
    if resource_type == "Provenance":
        return _read_provenance(session, actor, resource_id, book)
    reader = READERS.get(resource_type)
    if reader is None:
        raise NotFound(f"This server does not serve {resource_type} resources")
    return reader(session, actor, resource_id, book).resource


def _read_provenance(
    session: Session, actor: Actor, resource_id: uuid.UUID, book: KindBook
) -> Resource:
    for resource_type in PROVENANCE_TARGETS:
        try:
            entry = READERS[resource_type](session, actor, resource_id, book)
        except NotFound:
            continue
        provenance = provenance_of(entry)
        if provenance is not None and provenance["id"] == str(resource_id):
            return provenance
    raise NotFound("Provenance not found")
