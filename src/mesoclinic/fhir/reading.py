"""`GET /fhir/{type}/{id}`: one resource, found through the area that owns it.

A FHIR type can come from more than one table (a Condition is an assessment's diagnosis or a
history entry), each behind its own permission: the tables the actor may read are tried in turn,
an absent row moves on to the next, and a row out of scope stops the search (404 for another
clinic, 403 for another patient), exactly as the owning area answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from mesoclinic.assessment import service as assessment_service
from mesoclinic.assessment.models import Assessment
from mesoclinic.errors import NotFound
from mesoclinic.fhir.build import Resource
from mesoclinic.fhir.mapping_assessment import diagnosis_condition_resource
from mesoclinic.fhir.mapping_outcomes import body_structure_resource, observation_resource
from mesoclinic.fhir.mapping_patient import (
    allergy_resource,
    consent_resource,
    history_condition_resource,
    medication_statement_resource,
    pregnancy_observation_resource,
)
from mesoclinic.fhir.mapping_plans import careplan_resource
from mesoclinic.fhir.mapping_provenance import photo_consent_resource
from mesoclinic.fhir.service import (
    Entry,
    appointment_entry,
    media_of,
    patient_entry,
    provenance_of,
    staff_names,
    visit_entries_of,
)
from mesoclinic.outcomes import images as image_service
from mesoclinic.outcomes import service as outcome_service
from mesoclinic.outcomes import sites as site_service
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import PhotoConsent
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Allergy, Condition, Consent, Medication, PregnancyStatus
from mesoclinic.plans import appointments as appointment_service
from mesoclinic.plans import service as plan_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission
from mesoclinic.visits import service as visit_service
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot

Loader = Callable[[Session, Actor, uuid.UUID, KindBook], Entry]


R = TypeVar("R", Allergy, Medication, Condition, PregnancyStatus, Consent, PhotoConsent)


def _owned(
    session: Session,
    actor: Actor,
    model: type[R],
    record_id: uuid.UUID,
    permission: Permission,
    entity: str,
) -> R:
    """A patient-owned row in the actor's scope, with its read audited."""
    row = patient_service.load_owned(session, actor, model, record_id, permission, entity)
    patient = patient_service.load(session, actor, row.patient_id, permission)
    audit.record(
        session, actor, "read", entity, row.id, patient_id=patient.id, clinic_id=patient.clinic_id
    )
    return row


def _patient(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    return patient_entry(session, actor, rid)


def _diagnosis(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    found = patient_service.load_owned(
        session, actor, Assessment, rid, Permission.ASSESSMENT_READ, "Condition"
    )
    a = assessment_service.get(session, actor, found.patient_id, rid)
    return Entry(diagnosis_condition_resource(a), a.assessed_at, a.assessed_at, a.assessed_by)


def _history_condition(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, Condition, rid, Permission.HISTORY_READ, "condition")
    return Entry(history_condition_resource(row), None, row.recorded_at, row.recorded_by)


def _allergy(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, Allergy, rid, Permission.HISTORY_READ, "allergy")
    return Entry(allergy_resource(row), None, row.recorded_at, row.recorded_by)


def _medication(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, Medication, rid, Permission.HISTORY_READ, "medication")
    return Entry(medication_statement_resource(row), None, row.recorded_at, row.recorded_by)


def _pregnancy(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, PregnancyStatus, rid, Permission.HISTORY_READ, "pregnancy")
    resource = pregnancy_observation_resource(row)
    return Entry(resource, row.recorded_at, row.recorded_at, row.recorded_by)


def _measurement(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    m = outcome_service.get(session, actor, rid)
    resource = observation_resource(m, book.get(m.kind))
    return Entry(resource, m.measured_at, m.created_at, m.recorded_by)


def _consent(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, Consent, rid, Permission.CONSENT_READ, "consent")
    return Entry(consent_resource(row), None, row.recorded_at, row.recorded_by)


def _photo_consent(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    row = _owned(session, actor, PhotoConsent, rid, Permission.OUTCOME_READ, "photo_consent")
    return Entry(photo_consent_resource(row), None, row.recorded_at, row.recorded_by)


def _visit_of_part(session: Session, actor: Actor, part_id: uuid.UUID) -> Visit:
    lot = session.get(VisitLot, part_id)
    event = session.get(AdverseEvent, part_id) if lot is None else None
    visit_id = lot.visit_id if lot else event.visit_id if event else part_id
    return visit_service.get_visit(session, actor, visit_id)


def _visit_part(resource_type: str) -> Loader:
    def load(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
        visit = _visit_of_part(session, actor, rid)
        for entry in visit_entries_of(visit, staff_names(session, [visit.practitioner_id])):
            resource = entry.resource
            if resource["resourceType"] == resource_type and resource["id"] == str(rid):
                return entry
        raise NotFound(f"{resource_type} not found")

    return load


def _careplan(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    plan = plan_service.get(session, actor, rid)
    return Entry(careplan_resource(plan), plan.created_at, plan.created_at, plan.created_by)


def _appointment(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    appointment = appointment_service.get(session, actor, rid)
    return appointment_entry(appointment, staff_names(session, [appointment.practitioner_id]))


def _media(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
    image = image_service.get(session, actor, rid)
    return Entry(media_of(session, image), image.taken_at, image.created_at, image.created_by)


def _body_structure(session: Session, actor: Actor, rid: uuid.UUID, book: KindBook) -> Entry:
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


# Each type's tables, in the order they are tried, with the permission each needs.
LOADERS: dict[str, tuple[tuple[Permission, Loader], ...]] = {
    "Patient": ((Permission.PATIENT_READ, _patient),),
    "Condition": (
        (Permission.ASSESSMENT_READ, _diagnosis),
        (Permission.HISTORY_READ, _history_condition),
    ),
    "AllergyIntolerance": ((Permission.HISTORY_READ, _allergy),),
    "MedicationStatement": ((Permission.HISTORY_READ, _medication),),
    "Observation": (
        (Permission.OUTCOME_READ, _measurement),
        (Permission.HISTORY_READ, _pregnancy),
    ),
    "Consent": ((Permission.CONSENT_READ, _consent), (Permission.OUTCOME_READ, _photo_consent)),
    "Procedure": ((Permission.VISIT_READ, _visit_part("Procedure")),),
    "MedicationAdministration": ((Permission.VISIT_READ, _visit_part("MedicationAdministration")),),
    "AdverseEvent": ((Permission.VISIT_READ, _visit_part("AdverseEvent")),),
    "CarePlan": ((Permission.PLAN_READ, _careplan),),
    "Appointment": ((Permission.APPOINTMENT_READ, _appointment),),
    "Media": ((Permission.OUTCOME_READ, _media),),
    "BodyStructure": ((Permission.OUTCOME_READ, _body_structure),),
}
# A Provenance has its first target's id; a MedicationAdministration is never a first target.
PROVENANCE_TARGETS = tuple(t for t in LOADERS if t != "MedicationAdministration")


def _first_found(
    session: Session,
    actor: Actor,
    loaders: tuple[tuple[Permission, Loader], ...],
    rid: uuid.UUID,
    book: KindBook,
    accept: Callable[[Entry], bool] = lambda _entry: True,
) -> Entry | None:
    permitted = [loader for permission, loader in loaders if actor.can(permission)]
    if not permitted:
        actor.require(loaders[0][0])  # Forbidden, naming the permission
    for loader in permitted:
        try:
            entry = loader(session, actor, rid, book)
        except NotFound:
            continue
        if accept(entry):
            return entry
    return None


def read(
    session: Session, actor: Actor, resource_type: str, resource_id: uuid.UUID, book: KindBook
) -> Resource:
    """One resource, scoped and audited by its area's service; NotFound when absent."""
    actor.require(Permission.FHIR_READ)
    if resource_type == "Provenance":
        return _provenance(session, actor, resource_id, book)
    loaders = LOADERS.get(resource_type)
    if loaders is None:
        raise NotFound(f"This server does not serve {resource_type} resources")
    entry = _first_found(session, actor, loaders, resource_id, book)
    if entry is None:
        raise NotFound(f"{resource_type} not found")
    return entry.resource


def _provenance(session: Session, actor: Actor, resource_id: uuid.UUID, book: KindBook) -> Resource:
    loaders = tuple(pair for t in PROVENANCE_TARGETS for pair in LOADERS[t] if actor.can(pair[0]))
    if not loaders:
        raise NotFound("Provenance not found")
    entry = _first_found(
        session,
        actor,
        loaders,
        resource_id,
        book,
        accept=lambda e: e.resource["id"] == str(resource_id) and provenance_of(e) is not None,
    )
    provenance = provenance_of(entry) if entry else None
    if provenance is None:
        raise NotFound("Provenance not found")
    return provenance
