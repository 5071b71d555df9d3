"""Issue 16, item 18: refused reads are audited; the new-assessment form and the calendar's
patient names are audited as reads of those patients."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from plans.plan_support import at, next_weekday
from support import audit_entries, new_id


def test_a_read_of_another_clinics_patient_is_audited_as_refused(world):
    r = world.client("clinician_b").get(f"/api/v1/patients/{world.patient_a.id}")
    assert r.status_code == 404
    (entry,) = audit_entries(world.db, action="read-refused")
    assert entry.actor_username == world.users["clinician_b"].username
    assert entry.patient_id == world.patient_a.id
    assert entry.clinic_id == world.clinic_b.id
    detail = json.loads(entry.detail)
    assert detail["route"] == "/api/v1/patients/{patient_id}" and detail["status"] == 404


def test_refused_and_unknown_answer_the_same_to_the_caller(world):
    api = world.client("clinician_b")
    foreign = api.get(f"/api/v1/patients/{world.patient_a.id}")
    unknown = api.get(f"/api/v1/patients/{new_id()}")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert len(audit_entries(world.db, action="read-refused")) == 2


def test_a_role_refused_on_a_patients_page_is_audited(world):
    r = world.web("reception").get(f"/patients/{world.patient_a.id}/history")
    assert r.status_code == 403
    (entry,) = audit_entries(world.db, action="read-refused")
    assert entry.patient_id == world.patient_a.id and entry.actor_role == "reception"
    assert json.loads(entry.detail)["route"] == "/patients/{patient_id}/history"


def test_anonymous_refusals_and_allowed_reads_write_no_refusal(world, anon):
    assert anon.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 401
    assert (
        world.client("clinician").get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200
    )
    assert audit_entries(world.db, action="read-refused") == []


def test_the_new_assessment_form_is_audited_as_a_read_of_the_patient(world):
    r = world.web("clinician").get(f"/patients/{world.patient_a.id}/assessments/new")
    assert r.status_code == 200
    reads = audit_entries(world.db, action="read", patient_id=world.patient_a.id)
    assert [json.loads(e.detail)["via"] for e in reads] == ["assessment-form"]


def _book(world, patient, hour):
    body = {
        "patient_id": str(patient.id),
        "practitioner_id": str(world.users["clinician"].id),
        "room": "Room 1",
        "starts_at": at(next_weekday(1), hour),
        "duration_minutes": 30,
    }
    assert world.client("reception").post("/api/v1/appointments", json=body).status_code == 201


def test_each_patient_named_on_the_calendar_is_audited_as_a_read(world):
    _book(world, world.patient_a, 10)
    _book(world, world.patient_a, 11)
    _book(world, world.other_patient_a, 12)
    day = next_weekday(1)
    page = world.web("reception").get(f"/calendar?date={day.isoformat()}")
    assert page.status_code == 200 and world.patient_a.family_name in page.text
    reads = [
        e
        for e in audit_entries(world.db, action="read", entity_type="patient")
        if json.loads(e.detail or "{}").get("via") == "calendar"
    ]
    # One entry per patient shown, however many of their appointments are on the page.
    assert sorted(str(e.patient_id) for e in reads) == sorted(
        [str(world.patient_a.id), str(world.other_patient_a.id)]
    )
    api = world.client("reception").get(
        "/api/v1/appointments",
        params={
            "start": f"{day.isoformat()}T00:00:00Z",
            "end": f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z",
        },
    )
    assert len(api.json()) == 3
    reads = audit_entries(world.db, action="read", patient_id=world.other_patient_a.id)
    assert len(reads) == 2  # the page and the API call


def test_a_patient_asking_for_another_patients_record_gets_the_unknown_answer_audited(world):
    """Issue 16: a patient user gets 404 for another patient's record, exactly as for an
    unknown id (API, pages and FHIR), and the refusal is audited as `read-refused`."""
    other, unknown = world.other_patient_a.id, new_id()
    api, web = world.client("patient"), world.web("patient")
    for client, url in (
        (api, "/api/v1/patients/{}"),
        (api, "/api/v1/patients/{}/history"),
        (web, "/patients/{}"),
        (api, "/fhir/Patient/{}"),
    ):
        foreign, absent = client.get(url.format(other)), client.get(url.format(unknown))
        assert foreign.status_code == absent.status_code == 404, url
        tokens = re.compile(r'name="(csrf_token|form_token)" value="[^"]*"')
        assert tokens.sub("", foreign.text) == tokens.sub("", absent.text), url
    refused = audit_entries(world.db, action="read-refused")
    assert len(refused) == 8
    assert sum(e.patient_id == other for e in refused) == 4
    assert {e.actor_username for e in refused} == {world.users["patient"].username}
