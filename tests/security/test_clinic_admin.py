"""Issue 16, item 19: the group admin belongs to no clinic; a clinic admin administers one.

A clinic admin manages its own clinic's users and settings and sees only its clinic's data; an
admin created with a clinic is refused (CLI, API, web); nobody but the group admin can put a
record into another clinic than their own, and such a request is refused, never moved.
"""

from __future__ import annotations

import pytest

from mesoclinic.errors import Forbidden, InvalidInput
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.schemas import PatientCreate
from mesoclinic.security import service as security_service
from mesoclinic.security.actor import cli_actor
from support import TEST_PASSWORD, csrf_from

NEW_PATIENT = {
    "given_name": "Dora",
    "family_name": "Lima",
    "birth_date": "1990-02-03",
    "sex": "female",
}


def test_group_admin_with_a_clinic_is_refused_by_the_service(session, world):
    with pytest.raises(InvalidInput) as caught:
        security_service.create_user(
            session,
            cli_actor(),
            username="boss",
            role="admin",
            password=TEST_PASSWORD,
            clinic_name="Clinic A",
        )
    assert caught.value.field == "clinic" and "clinic_admin" in caught.value.message


def test_group_admin_with_a_clinic_is_refused_by_the_api(world):
    r = world.client("admin").post(
        "/api/v1/users",
        json={
            "username": "boss",
            "role": "admin",
            "password": TEST_PASSWORD,
            "clinic_id": str(world.clinic_a.id),
        },
    )
    assert r.status_code == 422, r.text
    assert (
        r.json()["error"]["field"] == "clinic"
        and "group administrator" in r.json()["error"]["message"]
    )


def test_group_admin_with_a_clinic_is_refused_by_the_users_page(world):
    web = world.web("admin")
    token = csrf_from(web.get("/admin/users").text)
    r = web.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "boss",
            "role": "admin",
            "clinic": "Clinic A",
            "password": TEST_PASSWORD,
        },
    )
    assert r.status_code == 422 and "clinic_admin" in r.text


def test_clinic_admin_is_added_by_the_group_admin_with_its_clinic(world):
    r = world.client("admin").post(
        "/api/v1/users",
        json={
            "username": "manager.a",
            "role": "clinic_admin",
            "password": TEST_PASSWORD,
            "clinic_id": str(world.clinic_a.id),
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["clinic_id"] == str(world.clinic_a.id)
    assert r.json()["role"] == "clinic_admin"


def test_clinic_admin_needs_a_clinic(world):
    r = world.client("admin").post(
        "/api/v1/users",
        json={"username": "manager.x", "role": "clinic_admin", "password": TEST_PASSWORD},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "clinic"


def test_clinic_admin_adds_staff_to_its_own_clinic_only(world):
    api = world.client("clinic_admin")
    own = api.post(
        "/api/v1/users",
        json={"username": "nurse.new", "role": "nurse", "password": TEST_PASSWORD},
    )
    assert own.status_code == 201 and own.json()["clinic_id"] == str(world.clinic_a.id)
    other = api.post(
        "/api/v1/users",
        json={
            "username": "nurse.spy",
            "role": "nurse",
            "password": TEST_PASSWORD,
            "clinic_id": str(world.clinic_b.id),
        },
    )
    assert other.status_code == 403 and other.json()["error"]["field"] == "clinic"
    admin = api.post(
        "/api/v1/users",
        json={"username": "boss", "role": "admin", "password": TEST_PASSWORD},
    )
    assert admin.status_code == 403


def test_clinic_admin_lists_and_signs_out_only_its_clinics_users(world):
    api = world.client("clinic_admin")
    names = {u["username"] for u in api.get("/api/v1/users").json()}
    assert world.users["nurse"].username in names
    assert world.users["clinician_b"].username not in names
    assert world.users["admin"].username not in names
    r = api.post(f"/api/v1/users/{world.users['clinician_b'].id}/end-sessions")
    assert r.status_code == 404
    r = api.post(f"/api/v1/users/{world.users['nurse'].id}/end-sessions")
    assert r.status_code == 200


def test_clinic_admin_users_page_offers_only_its_clinic_and_no_group_role(world):
    page = world.web("clinic_admin").get("/admin/users")
    assert page.status_code == 200
    assert "Clinic A" in page.text and "Clinic B" not in page.text
    assert 'value="admin"' not in page.text and 'value="clinic_admin"' in page.text
    assert world.users["clinician_b"].username not in page.text


def test_clinic_admin_sees_only_its_clinics_patients_and_audit(world):
    api = world.client("clinic_admin")
    found = api.get("/api/v1/patients").json()["items"]
    assert {p["id"] for p in found} == {str(world.patient_a.id), str(world.other_patient_a.id)}
    assert api.get(f"/api/v1/patients/{world.patient_b.id}").status_code == 404
    entries = api.get("/api/v1/audit", params={"limit": 500}).json()["items"]
    assert entries and all(e["clinic_id"] == str(world.clinic_a.id) for e in entries)


def test_clinic_admin_has_no_medical_record_access(world):
    api = world.client("clinic_admin")
    assert api.get(f"/api/v1/patients/{world.patient_a.id}/history").status_code == 403


def test_staff_cannot_register_a_patient_in_another_clinic(world):
    for persona in ("reception", "clinician"):
        r = world.client(persona).post(
            "/api/v1/patients", params={"clinic_id": str(world.clinic_b.id)}, json=NEW_PATIENT
        )
        assert r.status_code == 403, r.text
        assert "own clinic" in r.json()["error"]["message"]
    own = world.client("reception").post(
        "/api/v1/patients", params={"clinic_id": str(world.clinic_a.id)}, json=NEW_PATIENT
    )
    assert own.status_code == 201


def test_group_admin_registers_a_patient_in_the_clinic_it_names(world):
    r = world.client("admin").post(
        "/api/v1/patients", params={"clinic_id": str(world.clinic_b.id)}, json=NEW_PATIENT
    )
    assert r.status_code == 201 and r.json()["clinic_id"] == str(world.clinic_b.id)
    r = world.client("admin").post("/api/v1/patients", json=NEW_PATIENT)
    assert r.status_code == 422 and r.json()["error"]["field"] == "clinic_id"


def test_service_refuses_another_clinic_for_a_clinic_admin(session, world):
    with pytest.raises(Forbidden):
        patient_service.create(
            session, world.actor("clinic_admin"), PatientCreate(**NEW_PATIENT), world.clinic_b.id
        )


def test_a_group_admin_naming_an_unknown_clinic_gets_404_not_a_server_error(world):
    """Found by the schemathesis drill: the clinic id reached the database unchecked."""
    api = world.client("admin")
    unknown = "00000000-0000-4000-8000-000000000000"
    body = {"closed_on": "2030-01-07", "reason": "Drill"}
    r = api.post("/api/v1/clinic-calendar/closures", params={"clinic_id": unknown}, json=body)
    assert r.status_code == 404 and r.json()["error"]["field"] == "clinic_id"
    assert api.get("/api/v1/clinic-calendar", params={"clinic_id": unknown}).status_code == 404


def test_clinic_admin_edits_its_own_clinic_calendar_only(world):
    api = world.client("clinic_admin")
    body = {"closed_on": "2030-01-07", "reason": "Staff training"}
    assert api.post("/api/v1/clinic-calendar/closures", json=body).status_code == 201
    other = api.post(
        "/api/v1/clinic-calendar/closures", params={"clinic_id": str(world.clinic_b.id)}, json=body
    )
    assert other.status_code == 403
