"""Writing one bulk export: patients page by page (keyset on id), each page's records loaded in
a few queries per resource type, mapped by the pure mappers and appended to NDJSON files.

Memory stays bounded by one page (BATCH_SIZE patients and their records): nothing accumulates
across pages but the per-type counts. The whole export reads in one transaction, so the files
are one consistent snapshot (REPEATABLE READ on PostgreSQL; SQLite's WAL gives a read
transaction its snapshot). After every page the worker renews its lease and checks that the job
was not cancelled.
"""

from __future__ import annotations

import shutil
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.assessment.models import Assessment
from mesoclinic.db import SQLITE_BEGIN, RecordStatus, utcnow
from mesoclinic.fhir import (
    bulk,
    mapping_assessment,
    mapping_outcomes,
    mapping_patient,
    mapping_visits,
)
from mesoclinic.fhir.build import sampled_validation
from mesoclinic.fhir.bulk_ndjson import NdjsonWriter
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.models import Measurement, MeasurementStatus
from mesoclinic.patients.models import (
    Allergy,
    Condition,
    Consent,
    Medication,
    Patient,
    PregnancyStatus,
)
from mesoclinic.security.models import Clinic, User
from mesoclinic.visits.models import Visit, VisitStatus

BATCH_SIZE = 500
# The bulk path validates one resource in VALIDATE_EVERY per type with fhir.resources (the first
# of each type always); the mappers and `$everything` are the same code, and the tests validate
# every resource of the demo clinic (docs/fhir.md, "Speed and memory").
VALIDATE_EVERY = 100
Resource = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of patients, with what the mappers need besides the rows."""

    patients: list[Patient]
    since: datetime | None
    clinic_names: dict[uuid.UUID, str]
    kinds: KindBook
    # The page's visits and their practitioners, loaded once for the three visit types.
    loaded: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[uuid.UUID]:
        return [p.id for p in self.patients]


def _changed(column: Any, since: datetime | None) -> Any:
    return column >= since if since is not None else True


def _history(model: type[Any]) -> Callable[[Session, Page], Iterable[Any]]:
    def load(session: Session, page: Page) -> Iterable[Any]:
        stmt = (
            select(model)
            .where(
                model.patient_id.in_(page.ids),
                model.status == RecordStatus.ACTIVE,
                _changed(model.recorded_at, page.since),
            )
            .order_by(model.patient_id, model.recorded_at, model.id)
        )
        return session.execute(stmt).scalars()

    return load


def _patients(session: Session, page: Page) -> Iterator[Resource]:
    for patient in page.patients:
        if page.since is None or patient.updated_at >= page.since:
            yield mapping_patient.patient_resource(
                patient, clinic_name=page.clinic_names.get(patient.clinic_id)
            )


def _conditions(session: Session, page: Page) -> Iterator[Resource]:
    stmt = (
        select(Assessment)
        .where(
            Assessment.patient_id.in_(page.ids),
            Assessment.status == RecordStatus.ACTIVE,
            _changed(Assessment.updated_at, page.since),
        )
        .order_by(Assessment.patient_id, Assessment.assessed_at, Assessment.id)
    )
    for assessment in session.execute(stmt).scalars():
        yield mapping_assessment.diagnosis_condition_resource(assessment)
    for row in _history(Condition)(session, page):
        yield mapping_patient.history_condition_resource(row)


def _consents(session: Session, page: Page) -> Iterator[Resource]:
    stmt = (
        select(Consent)
        .where(Consent.patient_id.in_(page.ids), _changed(Consent.recorded_at, page.since))
        .order_by(Consent.patient_id, Consent.signed_at, Consent.id)
    )
    for consent in session.execute(stmt).scalars():
        yield mapping_patient.consent_resource(consent)


def _visits(session: Session, page: Page) -> list[tuple[Visit, str, str]]:
    """The page's completed visits with (username, name) of who gave them, loaded once."""
    if "visits" not in page.loaded:
        visits = list(
            session.execute(
                select(Visit)
                .where(
                    Visit.patient_id.in_(page.ids),
                    Visit.status == VisitStatus.COMPLETED,
                    _changed(Visit.updated_at, page.since),
                )
                .order_by(Visit.patient_id, Visit.performed_at, Visit.id)
            ).scalars()
        )
        ids = {v.practitioner_id for v in visits}
        users = (
            {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()}
            if ids
            else {}
        )
        rows = []
        for visit in visits:
            user = users.get(visit.practitioner_id)
            username = user.username if user else str(visit.practitioner_id)
            rows.append((visit, username, (user.display_name if user else "") or username))
        page.loaded["visits"] = rows
    return page.loaded["visits"]  # type: ignore[no-any-return]


def _procedures(session: Session, page: Page) -> Iterator[Resource]:
    for visit, username, name in _visits(session, page):
        yield mapping_visits.procedure_resource(
            visit, practitioner=username, practitioner_name=name
        )


def _administrations(session: Session, page: Page) -> Iterator[Resource]:
    for visit, username, name in _visits(session, page):
        yield from mapping_visits.administration_resources(
            visit, practitioner=username, practitioner_name=name
        )


def _adverse_events(session: Session, page: Page) -> Iterator[Resource]:
    for visit, _username, _name in _visits(session, page):
        for event in visit.adverse_events:
            if event.type != "none":
                yield mapping_visits.adverse_event_resource(event, visit)


def _allergies(session: Session, page: Page) -> Iterator[Resource]:
    for row in _history(Allergy)(session, page):
        yield mapping_patient.allergy_resource(row)


def _medications(session: Session, page: Page) -> Iterator[Resource]:
    for row in _history(Medication)(session, page):
        yield mapping_patient.medication_statement_resource(row)


def _observations(session: Session, page: Page) -> Iterator[Resource]:
    for status in _history(PregnancyStatus)(session, page):
        yield mapping_patient.pregnancy_observation_resource(status)
    stmt = (
        select(Measurement)
        .where(
            Measurement.patient_id.in_(page.ids),
            Measurement.status != MeasurementStatus.ENTERED_IN_ERROR,
            Measurement.superseded_at.is_(None),
            _changed(Measurement.created_at, page.since),
        )
        .order_by(Measurement.patient_id, Measurement.measured_at, Measurement.id)
    )
    for measurement in session.execute(stmt).unique().scalars():
        yield mapping_outcomes.observation_resource(measurement, page.kinds.get(measurement.kind))


# Resource type -> the function writing that type's resources of one page, in export order.
EXPORTERS: dict[str, Callable[[Session, Page], Iterator[Resource]]] = {
    "Patient": _patients,
    "Condition": _conditions,
    "AllergyIntolerance": _allergies,
    "MedicationStatement": _medications,
    "Observation": _observations,
    "Consent": _consents,
    "Procedure": _procedures,
    "MedicationAdministration": _administrations,
    "AdverseEvent": _adverse_events,
}
SUPPORTED_TYPES: tuple[str, ...] = tuple(EXPORTERS)


def _scoped(stmt: Any, clinic_id: uuid.UUID | None) -> Any:
    stmt = stmt.where(Patient.status == RecordStatus.ACTIVE)
    return stmt.where(Patient.clinic_id == clinic_id) if clinic_id is not None else stmt


def count_patients(session: Session, clinic_id: uuid.UUID | None) -> int:
    stmt = _scoped(select(func.count()).select_from(Patient), clinic_id)
    return int(session.execute(stmt).scalar_one())


def patient_pages(
    session: Session, clinic_id: uuid.UUID | None, size: int
) -> Iterator[list[Patient]]:
    """The clinic's active patients in pages of `size`, ordered by id (keyset: no OFFSET)."""
    last: uuid.UUID | None = None
    while True:
        stmt = _scoped(select(Patient), clinic_id)
        if last is not None:
            stmt = stmt.where(Patient.id > last)
        rows = list(session.execute(stmt.order_by(Patient.id).limit(size)).scalars())
        if not rows:
            return
        yield rows
        last = rows[-1].id
        if len(rows) < size:
            return


def write_page(session: Session, page: Page, types: tuple[str, ...], writer: NdjsonWriter) -> None:
    for kind in types:
        for resource in EXPORTERS[kind](session, page):
            writer.write(resource)


def run(
    factory: sessionmaker[Session],
    data_dir: Path,
    held: bulk.Claim,
    lease: timedelta,
    *,
    batch_size: int = BATCH_SIZE,
    kinds: KindBook | None = None,
) -> bool:
    """Write the claimed export; False when it was cancelled or taken over meanwhile."""
    kinds = kinds or load_kinds()
    folder = bulk.export_folder(data_dir, held.job_id)
    types = tuple(t for t in SUPPORTED_TYPES if t in held.types)
    with (
        NdjsonWriter(folder) as writer,
        factory() as session,
        session.begin(),
        sampled_validation(VALIDATE_EVERY),
    ):
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            if isinstance(bind, Engine):  # (tests bind the factory to an open transaction)
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        else:
            session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
        transaction_time = utcnow()
        total = count_patients(session, held.clinic_id)
        names = {cid: name for cid, name in session.execute(select(Clinic.id, Clinic.name))}
        if not bulk.heartbeat(factory, held, lease, done=0, total=total):
            writer.abandon()
            return False
        done = 0
        for patients in patient_pages(session, held.clinic_id, batch_size):
            write_page(session, Page(patients, held.since, names, kinds), types, writer)
            done += len(patients)
            session.expunge_all()  # the page's rows are written: let them go
            if not bulk.heartbeat(factory, held, lease, done=done, total=total):
                writer.abandon()
                return False
        output = writer.finish(types)
    if bulk.complete(factory, held, output, transaction_time):
        return True
    shutil.rmtree(folder, ignore_errors=True)  # cancelled while the files were being closed
    return False


def by_patient(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    """Resources grouped by the patient they are about (for tests and the round trip)."""
    out: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        if resource["resourceType"] == "Patient":
            out[f"Patient/{resource['id']}"].append(resource)
            continue
        subject = resource.get("subject") or resource.get("patient") or {}
        out[str(subject.get("reference"))].append(resource)
    return out
