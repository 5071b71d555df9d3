"""Export -> import into an empty database reproduces each patient with their history,
measurements and visits (both databases; visits come back as visits recorded elsewhere): the
clinic's bulk export is read back, one transaction Bundle per patient, and imported through the
same code as `POST /fhir`."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from fhir_records import add_record, add_visits, record_summary, visit_summary
from mesoclinic import migrate
from mesoclinic.db import make_engine, make_sessionmaker, unit_of_work
from mesoclinic.fhir import bulk, bulk_export, bulk_worker, importer
from mesoclinic.fhir.bulk_models import ExportLevel
from mesoclinic.fhir.importer_parse import parse_bundle, transaction_bundle
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.models import Clinic
from mesoclinic.visits.models import ExternalVisit, Visit

# The export runs in its own sessions and the second database has its own engine.
pytestmark = pytest.mark.committed


@pytest.fixture
def empty_database(db: Any, tmp_path: Path) -> Iterator[Any]:
    """A second, freshly migrated database of the same kind as the test's."""
    if db.dialect == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        migrate.upgrade(engine)
        yield make_sessionmaker(engine)
        engine.dispose()
        return
    url = make_url(db.url)
    name = f"mc_empty_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _export(world: Any) -> list[dict[str, Any]]:
    """Clinic A's bulk export, every type, as the worker writes it."""
    with unit_of_work(world.db.factory) as s:
        actor = world.actor("clinician")
        request = bulk.ExportRequest(
            ExportLevel.SYSTEM, bulk_export.SUPPORTED_TYPES, None, "http://test/fhir/$export"
        )
        job_id = bulk.kick_off(s, actor, request).id
    settings = world.app.state.settings
    assert "exports written 1" in bulk_worker.run_pending(world.db.factory, settings)
    folder = bulk.export_folder(settings.data_dir, job_id)
    resources = []
    for path in sorted(folder.glob("*.ndjson")):
        resources += [json.loads(line) for line in path.read_text().splitlines()]
    return resources


def test_export_then_import_into_an_empty_database_reproduces_the_record(world, empty_database):
    add_record(world.db.factory, world.patient_a.id)
    add_record(world.db.factory, world.other_patient_a.id, density=88.5)
    add_visits(
        world.db.factory,
        world.actor("clinician"),
        [world.patient_a.id, world.other_patient_a.id],
    )
    resources = _export(world)
    grouped = bulk_export.by_patient(resources)
    assert set(grouped) == {f"Patient/{world.patient_a.id}", f"Patient/{world.other_patient_a.id}"}

    with unit_of_work(empty_database) as s:
        clinic = Clinic(name="Receiving clinic", timezone="Europe/London")
        s.add(clinic)
        s.flush()
        clinic_id = clinic.id
    importer_actor = cli_actor("import-test")
    for _ in range(2):  # the second import finds everything and changes nothing
        for patient_resources in grouped.values():
            parsed = parse_bundle(transaction_bundle(patient_resources))
            with unit_of_work(empty_database) as s:
                importer.import_bundle(s, importer_actor, parsed, load_kinds(), clinic_id)

    with world.db.factory() as source, empty_database() as target:
        imported = target.execute(select(Patient)).scalars().all()
        assert len(imported) == 2
        for original in (world.patient_a, world.other_patient_a):
            copy = next(p for p in imported if p.given_name == original.given_name)
            assert copy.clinic_id == clinic_id
            expected = record_summary(source, source.get(Patient, original.id))
            assert record_summary(target, copy) == expected
            assert len(expected["measurements"]) == 2 and len(expected["conditions"]) == 2
            visits = visit_summary(source, source.get(Patient, original.id))
            assert len(visits) == 2 and visit_summary(target, copy) == visits
        # Imported once, however often the bundle came: one external visit per Procedure, no
        # visit of the receiving clinic (no cocktail, lot or stock of its own was touched).
        assert target.execute(select(func.count()).select_from(ExternalVisit)).scalar_one() == 4
        assert target.execute(select(func.count()).select_from(Visit)).scalar_one() == 0
