"""Storing a referral (a transaction Bundle already read by `importer_parse`) through the areas'
services, idempotently: the same bundle twice changes nothing the second time.

Matching: a patient by the clinic's own record number, then by a link left by an earlier import
(any of the sender's identifiers, the entry's fullUrl or the resource id); every other resource
by its links. A linked history entry whose content changed is voided and recorded again (the
history keeps both), a linked measurement that changed is corrected (the original stays beside
it), a changed patient is updated. Every write goes through the owning area's service, so scope,
permissions, checks and audit entries are the same as for a person typing the record in. The
caller owns the one transaction: any refusal leaves nothing stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import DomainError, Forbidden, InvalidInput
from mesoclinic.fhir import codes
from mesoclinic.fhir.bulk_models import ImportLink
from mesoclinic.fhir.importer_read import fhirpath
from mesoclinic.fhir.importer_records import (
    AdministrationIn,
    AllergyIn,
    BundleRefused,
    ConditionIn,
    Issue,
    MeasurementIn,
    MedicationIn,
    Parsed,
    PatientIn,
    PregnancyIn,
    ProcedureIn,
    Source,
)
from mesoclinic.outcomes import service as measurement_service
from mesoclinic.outcomes import sites as site_service
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import (
    Measurement,
    MeasurementSite,
    MeasurementStatus,
    SiteLocation,
)
from mesoclinic.outcomes.schemas import MeasurementCorrection, MeasurementCreate, SiteCreate
from mesoclinic.patients import history
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Allergy, Condition, Medication, Patient, PregnancyStatus
from mesoclinic.patients.schemas import (
    AllergyCreate,
    ConditionCreate,
    MedicationCreate,
    PatientCreate,
    PatientUpdate,
    PregnancyStatusCreate,
)
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.visits import service as visit_service
from mesoclinic.visits.schemas import ExternalAdministration, ExternalVisitCreate

# Where a field of mesoclinic's schemas lives in the FHIR resource (for error expressions).
PATIENT_PATHS = {
    "given_name": "name[0].given",
    "family_name": "name[0].family",
    "birth_date": "birthDate",
    "sex": "gender",
    "phone": "telecom",
    "email": "telecom",
    "address_line": "address[0].line",
    "city": "address[0].city",
    "postal_code": "address[0].postalCode",
    "country": "address[0].country",
}
ITEM_PATHS = {
    "Condition": {"name": "code", "kind": "code", "onset_on": "onsetDateTime", "note": "note"},
    "AllergyIntolerance": {"substance": "code", "reaction": "reaction", "note": "note"},
    "MedicationStatement": {
        "name": "medicationCodeableConcept",
        "dose": "dosage",
        "category": "category",
        "started_on": "effectivePeriod.start",
        "stopped_on": "effectivePeriod.end",
    },
    "Observation": {
        "kind": "code",
        "value": "valueQuantity.value",
        "unit": "valueQuantity.unit",
        "measured_at": "effectiveDateTime",
        "site_id": "bodySite",
        "location": "bodySite",
        "label": "bodySite.text",
        "rater": "note",
        "device_name": "device.display",
        "value_codeable": "valueCodeableConcept",
    },
    "Procedure": {
        "performed_at": "performedDateTime",
        "procedure": "code",
        "technique": "usedCode",
        "zones": "bodySite",
        "performer": "performer[0].actor.display",
        "outcome": "outcome",
        "complications": "complication",
        "notes": "note",
        "subject": "subject",
    },
    "MedicationAdministration": {
        "product": "medicationReference",
        "lot_number": "medicationReference",
        "expires_on": "medicationReference",
        "dose": "dosage.dose",
    },
}
HISTORY_MODELS: dict[str, tuple[str, type[Any]]] = {
    "Condition": ("conditions", Condition),
    "AllergyIntolerance": ("allergies", Allergy),
    "MedicationStatement": ("medications", Medication),
    "PregnancyObservation": ("pregnancy-statuses", PregnancyStatus),
}


@dataclass(frozen=True)
class EntryResult:
    index: int
    resource_type: str
    local_id: uuid.UUID
    outcome: str  # created | updated | unchanged

    @property
    def status(self) -> str:
        return "201 Created" if self.outcome == "created" else "200 OK"


def _refuse(source: Source, error: Exception, paths: dict[str, str]) -> BundleRefused:
    """The service's or schema's refusal, pointed at the element of the entry it came from."""
    if isinstance(error, ValidationError):
        issues = []
        for e in error.errors()[:10]:
            loc = tuple(e["loc"])
            name = str(loc[0]) if loc else ""
            where = paths.get(name)
            path = f"{source.path}.{where}" if where else fhirpath(source.path, ())
            issues.append(Issue(path, e["msg"].removeprefix("Value error, "), "value"))
        return BundleRefused(issues or [Issue(source.path, str(error))])
    if isinstance(error, DomainError):
        where = paths.get(error.field or "")
        path = f"{source.path}.{where}" if where else source.path
        status = error.status if error.status in (403, 404, 409) else 422
        code = {403: "forbidden", 404: "not-found", 409: "conflict"}.get(status, "processing")
        return BundleRefused([Issue(path, error.message, code)], status)
    raise error


class _Links:
    """The clinic's import links, read and written as the bundle is stored."""

    def __init__(self, session: Session, actor: Actor, clinic_id: uuid.UUID) -> None:
        self.session, self.actor, self.clinic_id = session, actor, clinic_id

    def find(self, resource_type: str, keys: tuple[str, ...]) -> ImportLink | None:
        if not keys:
            return None
        return (
            self.session.execute(
                select(ImportLink)
                .where(
                    ImportLink.clinic_id == self.clinic_id,
                    ImportLink.resource_type == resource_type,
                    ImportLink.source_key.in_(keys),
                )
                .order_by(ImportLink.created_at)
            )
            .scalars()
            .first()
        )

    def point(
        self, resource_type: str, keys: tuple[str, ...], local_id: uuid.UUID, patient_id: uuid.UUID
    ) -> None:
        """Every key of the entry now names local_id (new keys are added, old ones moved)."""
        existing = {
            link.source_key: link
            for link in self.session.execute(
                select(ImportLink).where(
                    ImportLink.clinic_id == self.clinic_id,
                    ImportLink.resource_type == resource_type,
                    ImportLink.source_key.in_(keys),
                )
            ).scalars()
        }
        for key in keys:
            link = existing.get(key)
            if link is None:
                self.session.add(
                    ImportLink(
                        clinic_id=self.clinic_id,
                        resource_type=resource_type,
                        source_key=key[:400],
                        local_id=local_id,
                        patient_id=patient_id,
                        created_by=self.actor.username,
                    )
                )
            else:
                link.local_id = local_id
        self.session.flush()


def target_clinic(actor: Actor, clinic_id: uuid.UUID | None) -> uuid.UUID:
    """The clinic the referral is stored in: the actor's own, or the one a group admin names."""
    if actor.role is Role.PATIENT:
        raise Forbidden("Patients cannot import records")
    actor.require(Permission.PATIENT_WRITE)
    if actor.clinic_id is not None:
        if clinic_id is not None and clinic_id != actor.clinic_id:
            raise InvalidInput("You can import into your own clinic only", "clinic")
        return actor.clinic_id
    if clinic_id is None:
        raise InvalidInput("A group admin names the clinic to import into: ?clinic=<id>", "clinic")
    return clinic_id


def import_bundle(
    session: Session,
    actor: Actor,
    parsed: Parsed,
    book: KindBook,
    clinic_id: uuid.UUID,
) -> list[EntryResult]:
    """Store every record of the referral; BundleRefused (nothing kept) at the first refusal."""
    # One import per clinic at a time: the same bundle sent twice at the same moment would
    # otherwise find no links in both transactions and the second would break the links'
    # unique key. Here the second waits, then finds the first one's links (PostgreSQL; SQLite
    # runs one write transaction at a time anyway).
    session.execute(select(Clinic.id).where(Clinic.id == clinic_id).with_for_update())
    links = _Links(session, actor, clinic_id)
    results: list[EntryResult] = []
    patients: dict[str, uuid.UUID] = {}
    for patient_in in parsed.patients:
        try:
            result = _patient(session, actor, links, patient_in, clinic_id)
        except (DomainError, ValidationError) as error:
            raise _refuse(patient_in.source, error, PATIENT_PATHS) from error
        results.append(result)
        for key in patient_in.ref_keys:
            patients[key] = result.local_id
    items: list[Any] = [
        *parsed.conditions,
        *parsed.allergies,
        *parsed.medications,
        *parsed.pregnancies,
    ]
    for item in items:
        try:
            results.append(_history(session, actor, links, item, patients[item.patient_ref]))
        except (DomainError, ValidationError) as error:
            paths = ITEM_PATHS.get(item.source.resource_type, {})
            raise _refuse(item.source, error, paths) from error
    for measurement in parsed.measurements:
        patient_id = patients[measurement.patient_ref]
        try:
            results.append(_measurement(session, actor, links, measurement, patient_id, book))
        except (DomainError, ValidationError) as error:
            raise _refuse(measurement.source, error, ITEM_PATHS["Observation"]) from error
    for procedure in parsed.procedures:
        try:
            results += _procedure(
                session, actor, links, procedure, parsed.administrations, patients
            )
        except (DomainError, ValidationError) as error:
            raise _refuse(procedure.source, error, ITEM_PATHS["Procedure"]) from error
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    audit.record(
        session,
        actor,
        "import",
        "fhir_bundle",
        None,
        patient_id=next(iter(patients.values()), None)
        if len(set(patients.values())) == 1
        else None,
        clinic_id=clinic_id,
        detail={
            "entries": len(results),
            **counts,
            "patients": sorted(map(str, set(patients.values()))),
        },
    )
    return sorted(results, key=lambda r: r.index)


def _patient(
    session: Session, actor: Actor, links: _Links, data: PatientIn, clinic_id: uuid.UUID
) -> EntryResult:
    patient = _matching_patient(session, actor, links, data, clinic_id)
    fields = {
        "given_name": data.given_name,
        "family_name": data.family_name,
        "birth_date": data.birth_date,
        "sex": data.sex,
        "phone": data.phone,
        "email": data.email,
        "address_line": data.address_line,
        "city": data.city,
        "postal_code": data.postal_code,
        "country": data.country,
    }
    if patient is None:
        patient = patient_service.create(session, actor, PatientCreate(**fields), clinic_id)
        outcome = "created"
    else:
        changes = {k: v for k, v in fields.items() if v is not None and getattr(patient, k) != v}
        if changes:
            patient_service.update(session, actor, patient.id, PatientUpdate(**changes))
        outcome = "updated" if changes else "unchanged"
    keys = data.source.keys + tuple(f"url|{k}" for k in data.ref_keys)
    links.point("Patient", tuple(dict.fromkeys(keys)), patient.id, patient.id)
    return EntryResult(data.source.index, "Patient", patient.id, outcome)


def _matching_patient(
    session: Session, actor: Actor, links: _Links, data: PatientIn, clinic_id: uuid.UUID
) -> Patient | None:
    for system, value in data.record_numbers:
        if codes.clinic_id_from_record_system(system) != clinic_id:
            continue
        found = session.execute(
            select(Patient).where(Patient.clinic_id == clinic_id, Patient.record_number == value)
        ).scalar_one_or_none()
        if found is not None:
            return patient_service.load(session, actor, found.id, Permission.PATIENT_WRITE)
    keys = data.source.keys + tuple(f"url|{k}" for k in data.ref_keys)
    link = links.find("Patient", tuple(dict.fromkeys(keys)))
    if link is None:
        return None
    return patient_service.load(session, actor, link.local_id, Permission.PATIENT_WRITE)


def _history_fields(item: Any) -> tuple[str, str, Any]:
    """(resource type for links, history kind, create schema) of one history item."""
    if isinstance(item, ConditionIn):
        data: Any = ConditionCreate(
            name=item.name, kind=item.kind, onset_on=item.onset_on, note=item.note
        )
        return "Condition", "conditions", data
    if isinstance(item, AllergyIn):
        data = AllergyCreate(
            substance=item.substance, reaction=item.reaction, severity=item.severity, note=item.note
        )
        return "AllergyIntolerance", "allergies", data
    if isinstance(item, MedicationIn):
        data = MedicationCreate(
            name=item.name,
            dose=item.dose,
            category=item.category,
            started_on=item.started_on,
            stopped_on=item.stopped_on,
            note=item.note,
        )
        return "MedicationStatement", "medications", data
    assert isinstance(item, PregnancyIn)
    return (
        "PregnancyObservation",
        "pregnancy-statuses",
        PregnancyStatusCreate(value=item.value, note=item.note),
    )


def _history(
    session: Session, actor: Actor, links: _Links, item: Any, patient_id: uuid.UUID
) -> EntryResult:
    link_type, kind, data = _history_fields(item)
    model = HISTORY_MODELS[link_type][1]
    link = links.find(link_type, item.source.keys)
    outcome = "created"
    if link is not None:
        existing = session.get(model, link.local_id)
        if existing is not None and existing.patient_id != patient_id:
            raise InvalidInput("This record was imported for another patient", "subject")
        if existing is not None and existing.status == RecordStatus.ACTIVE:
            if all(getattr(existing, k) == v for k, v in data.model_dump().items()):
                links.point(link_type, item.source.keys, existing.id, patient_id)
                return EntryResult(
                    item.source.index, item.source.resource_type, existing.id, "unchanged"
                )
            history.void_item(session, actor, patient_id, kind, existing.id)
        outcome = "updated"
    row = history.add(session, actor, patient_id, kind, data)
    links.point(link_type, item.source.keys, row.id, patient_id)
    return EntryResult(item.source.index, item.source.resource_type, row.id, outcome)


def _site(
    session: Session, actor: Actor, patient_id: uuid.UUID, location: str | None, label: str | None
) -> uuid.UUID | None:
    """The patient's active marked site of that location and label, marked now if missing."""
    if location is None:
        return None
    stmt = select(MeasurementSite).where(
        MeasurementSite.patient_id == patient_id,
        MeasurementSite.status == RecordStatus.ACTIVE,
        MeasurementSite.location == location,
    )
    for site in session.execute(stmt.order_by(MeasurementSite.created_at)).scalars():
        if label is None or site.label == label:
            return site.id
    try:
        data = SiteCreate(
            location=SiteLocation(location),
            label=label,
            # no mark or photo came with it: the clinic marks the site at its first visit
            description="Named in a referral (FHIR import); not yet marked at this clinic",
        )
    except (ValidationError, ValueError) as error:
        raise InvalidInput(
            f"not a scalp site of {codes.SCALP_SITE}: {location}", "location"
        ) from error
    return site_service.create(session, actor, patient_id, data).id


def _measurement(
    session: Session,
    actor: Actor,
    links: _Links,
    item: MeasurementIn,
    patient_id: uuid.UUID,
    book: KindBook,
) -> EntryResult:
    link = links.find("Observation", item.source.keys)
    if link is not None:
        existing = session.get(Measurement, link.local_id)
        if existing is None or existing.patient_id != patient_id:
            raise InvalidInput("This value was imported for another patient", "subject")
        current = existing
        if current.status is MeasurementStatus.ENTERED_IN_ERROR or current.superseded_at:
            current = _newest_correction(session, current)
        if current.value == item.value and current.unit == item.unit:
            return EntryResult(item.source.index, "Observation", current.id, "unchanged")
        correction = measurement_service.correct(
            session,
            actor,
            current.id,
            MeasurementCorrection(
                value=item.value,
                unit=item.unit,
                measured_at=item.measured_at,
                rater=item.rater,
                reason="changed by a referral import",
            ),
            book,
        )
        links.point("Observation", item.source.keys, correction.id, patient_id)
        return EntryResult(item.source.index, "Observation", correction.id, "updated")
    site_id = _site(session, actor, patient_id, item.site_location, item.site_label)
    data = MeasurementCreate(
        kind=item.kind,
        value=item.value,
        unit=item.unit,
        measured_at=item.measured_at,
        site_id=site_id,
        device_name=item.device_name,
        rater=item.rater,
        blinded=item.blinded,
        note=item.note,
    )
    row = measurement_service.create(session, actor, patient_id, data, book)
    links.point("Observation", item.source.keys, row.id, patient_id)
    return EntryResult(item.source.index, "Observation", row.id, "created")


def _newest_correction(session: Session, measurement: Measurement) -> Measurement:
    """The value that replaced this one (following corrections to the newest)."""
    current = measurement
    while True:
        nxt = session.execute(
            select(Measurement).where(Measurement.corrects_id == current.id)
        ).scalar_one_or_none()
        if nxt is None:
            return current
        current = nxt


def _administrations(
    procedure: ProcedureIn, administrations: list[AdministrationIn]
) -> list[tuple[AdministrationIn, ExternalAdministration]]:
    """The procedure's administrations, each read into the visit schema (a refusal names the
    administration's own entry)."""
    out = []
    for item in administrations:
        if item.procedure_ref not in procedure.ref_keys:
            continue
        try:
            out.append(
                (
                    item,
                    ExternalAdministration(
                        product=item.product,
                        lot_number=item.lot_number,
                        expires_on=item.expires_on,
                        dose=item.dose,
                    ),
                )
            )
        except ValidationError as error:
            raise _refuse(item.source, error, ITEM_PATHS["MedicationAdministration"]) from error
    return out


def _procedure(
    session: Session,
    actor: Actor,
    links: _Links,
    item: ProcedureIn,
    administrations: list[AdministrationIn],
    patients: dict[str, uuid.UUID],
) -> list[EntryResult]:
    """A session given elsewhere and its lots: one external visit (no stock drawn, no safety
    checks: it was not given here), found again by its links on the next import."""
    patient_id = patients[item.patient_ref]
    given = _administrations(item, administrations)
    data = ExternalVisitCreate(
        performed_at=item.performed_at,
        procedure=item.procedure,
        technique=item.technique,
        zones=list(item.zones),
        performer=item.performer,
        outcome=item.outcome,
        complications=list(item.complications),
        administrations=[a for _, a in given],
        notes=item.notes,
    )
    keys = item.source.keys + tuple(f"url|{k}" for k in item.ref_keys)
    keys = tuple(dict.fromkeys(keys))
    link = links.find("Procedure", keys)
    row, outcome = visit_service.record_external(
        session,
        actor,
        patient_id,
        data,
        source="fhir-import",
        existing_id=link.local_id if link is not None else None,
    )
    links.point("Procedure", keys, row.id, patient_id)
    results = [EntryResult(item.source.index, "Procedure", row.id, outcome)]
    for admin, _ in given:
        links.point("MedicationAdministration", admin.source.keys, row.id, patient_id)
        results.append(EntryResult(admin.source.index, "MedicationAdministration", row.id, outcome))
    return results


def response_bundle(results: list[EntryResult]) -> dict[str, Any]:
    """The transaction-response Bundle: one entry per request entry, in the same order."""
    names = {"PregnancyObservation": "Observation"}
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [
            {
                "response": {
                    "status": r.status,
                    "location": f"{names.get(r.resource_type, r.resource_type)}/{r.local_id}",
                }
            }
            for r in results
        ],
    }
