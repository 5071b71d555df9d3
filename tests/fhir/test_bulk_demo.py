"""The bulk export of the whole demo clinic: every line of every file validates with
fhir.resources (R4B), every active patient is in it, and the record's main types are there."""

from __future__ import annotations

import json
from collections import Counter

from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import func, select

from mesoclinic.db import RecordStatus, unit_of_work
from mesoclinic.fhir import bulk, bulk_export, bulk_worker
from mesoclinic.fhir.bulk_models import BulkExportJob, ExportLevel, ExportStatus
from mesoclinic.patients.models import Patient
from mesoclinic.security.models import User
from mesoclinic.security.service import actor_for


def test_the_demo_clinic_exports_in_bulk_and_every_line_validates(app, db, demo):
    settings = app.state.settings
    with unit_of_work(db.factory) as s:
        clinician = (
            s.execute(select(User).where(User.role == "clinician", User.clinic_id.is_not(None)))
            .scalars()
            .first()
        )
        assert clinician is not None
        request = bulk.ExportRequest(
            ExportLevel.SYSTEM, bulk_export.SUPPORTED_TYPES, None, "http://demo/fhir/$export"
        )
        job_id = bulk.kick_off(s, actor_for(clinician, "test"), request).id
        patients = s.execute(
            select(func.count())
            .select_from(Patient)
            .where(Patient.clinic_id == clinician.clinic_id, Patient.status == RecordStatus.ACTIVE)
        ).scalar_one()
    assert "exports written 1" in bulk_worker.run_pending(db.factory, settings)
    with db.factory() as s:
        job = s.get(BulkExportJob, job_id)
        assert job.status is ExportStatus.DONE and job.patients_done == patients
        output = job.output
    counts = Counter[str]()
    folder = bulk.export_folder(settings.data_dir, job_id)
    for entry in output:
        lines = (folder / entry["file"]).read_text().splitlines()
        assert len(lines) == entry["count"]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == entry["type"]
            get_fhir_model_class(entry["type"]).model_validate(resource)
            counts[entry["type"]] += 1
    assert counts["Patient"] == patients >= 20
    for kind in ("Condition", "Observation", "Procedure", "MedicationAdministration", "Consent"):
        assert counts[kind] > 0, kind
