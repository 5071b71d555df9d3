"""Every clinical date is checked against the patient's birth date and, where it applies, the
clock: one check (`patient_service.check_clinical_date`), a 422 naming the field in words."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mesoclinic.errors import InvalidInput
from mesoclinic.patients.models import Patient
from mesoclinic.patients.service import check_clinical_date
from support import csrf_from

BORN = date(1988, 6, 1)
BEFORE_BIRTH = "1901-01-01T10:00:00+00:00"


def _patient() -> Patient:
    return Patient(birth_date=BORN)


def test_a_date_before_birth_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        check_clinical_date(_patient(), date(1901, 1, 1), "signed_at", "The signature date")
    assert refused.value.field == "signed_at"
    assert refused.value.message == (
        "The signature date (01 Jan 1901) is before the patient's birth date (01 Jun 1988)"
    )


def test_future_dates_and_times_are_refused_unless_allowed():
    tomorrow_everywhere = datetime.now(UTC).date() + timedelta(days=2)
    with pytest.raises(InvalidInput, match="cannot be in the future"):
        check_clinical_date(_patient(), tomorrow_everywhere, "onset_on", "The onset date")
    with pytest.raises(InvalidInput, match="cannot be in the future"):
        check_clinical_date(_patient(), datetime.now(UTC) + timedelta(hours=1), "t", "The time")
    check_clinical_date(_patient(), tomorrow_everywhere, "start_date", "x", may_be_future=True)
    check_clinical_date(_patient(), BORN, "onset_on", "The onset date")
    check_clinical_date(_patient(), None, "onset_on", "The onset date")


def _error(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    error: dict[str, Any] = r.json()["error"]
    assert "before the patient's birth date" in error["message"]
    return error


CASES = [
    (
        "consents",
        {"procedure": "mesotherapy", "signed_by": "Ana", "signed_at": BEFORE_BIRTH},
        "signed_at",
    ),
    ("medications", {"name": "Minoxidil", "started_on": "1901-01-01"}, "started_on"),
    ("medications", {"name": "Aspirin", "stopped_on": "1901-01-01"}, "stopped_on"),
    ("conditions", {"name": "Diabetes", "onset_on": "1901-01-01"}, "onset_on"),
    ("assessments", {"diagnosis": "telogen_effluvium", "assessed_at": BEFORE_BIRTH}, "assessed_at"),
    (
        "measurements",
        {"kind": "density_total", "value": 120, "unit": "/cm2", "measured_at": BEFORE_BIRTH},
        "measured_at",
    ),
    (
        "plans",
        {"protocol_code": "standard-vitamin", "start_date": "1901-01-07", "activate": False},
        "start_date",
    ),
]


@pytest.mark.parametrize(("path", "body", "field"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_api_refuses_a_clinical_date_before_birth(world, path, body, field):
    r = world.client("clinician").post(f"/api/v1/patients/{world.patient_a.id}/{path}", json=body)
    assert _error(r)["field"] == field


def test_visit_before_birth_is_refused_against_performed_at(world):
    body = {
        "patient_id": str(world.patient_a.id),
        "performed_at": BEFORE_BIRTH,
        "cocktail_id": str(uuid.uuid4()),
        "lots": [{"lot_id": str(uuid.uuid4()), "volume_ml": 3}],
        "technique": "point_by_point",
        "zones": ["vertex"],
        "depth_mm": 1.5,
        "points": 60,
        "volume_per_point_ml": 0.05,
        "total_volume_ml": 3,
        "needle_gauge": 30,
        "needle_length_mm": 4,
        "adverse_events": [{"type": "none"}],
    }
    r = world.client("clinician").post("/api/v1/visits", json=body)
    assert _error(r)["field"] == "performed_at"


def test_consent_form_page_says_the_date_is_before_birth(world):
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/consents"
    page = web.get(f"/patients/{world.patient_a.id}")
    r = web.post(
        url,
        data={
            "csrf_token": csrf_from(page.text),
            "procedure": "mesotherapy",
            "signed_by": "Ana Silva",
            "signed_at": "1901-01-01T10:00",
        },
    )
    assert r.status_code == 422, r.text[:300]
    assert "The signature date (01 Jan 1901) is before the patient" in r.text
