"""Patient registration and consent, posted twice at the same moment (form, or API with one
Idempotency-Key) to a live server: exactly one record each time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from double_submit_support import api_post, count, form_post, one_created, one_redirect
from mesoclinic.patients.models import Consent, Patient

# a live server and threads racing on their own connections
pytestmark = pytest.mark.committed


PATIENT = {"given_name": "Rui", "family_name": "Racer", "birth_date": "1988-03-03", "sex": "male"}


def test_patient_form_and_api_create_race_store_one_patient_each(world, live_server):
    one_redirect(
        form_post(world, live_server, "reception", "/patients/new", "/patients/new", PATIENT)
    )
    assert count(world, Patient, Patient.family_name == "Racer") == 1
    one_created(api_post(world, live_server, "reception", "/api/v1/patients", PATIENT))
    assert count(world, Patient, Patient.family_name == "Racer") == 2


def test_consent_form_and_api_race_store_one_consent_each(world, live_server):
    patient = world.patient_b  # no consent yet
    base = f"/patients/{patient.id}/consents"
    fields = {"procedure": "mesotherapy", "signed_by": "Pat B"}
    one_redirect(form_post(world, live_server, "clinician_b", base, base, fields))
    assert count(world, Consent, Consent.patient_id == patient.id) == 1
    body = {**fields, "procedure": "prp", "signed_at": datetime.now(ZoneInfo("UTC")).isoformat()}
    one_created(api_post(world, live_server, "clinician_b", f"/api/v1{base}", body))
    assert count(world, Consent, Consent.patient_id == patient.id) == 2
