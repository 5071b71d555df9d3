"""Patient API: create, read, search, update, void, with clinic and patient scoping."""

from __future__ import annotations

from support import audit_entries


def test_created_patient_gets_uuid_and_record_number(world):
    c = world.client("reception")
    r = c.post("/api/v1/patients", json={"given_name": "Zoe", "family_name": "Park",
                                         "birth_date": "1990-02-03", "sex": "female"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["record_number"].startswith("MC-")
    assert body["clinic_id"] == str(world.clinic_a.id)
    assert c.get(f"/api/v1/patients/{body['id']}").json()["given_name"] == "Zoe"
    assert audit_entries(world.db, action="create", entity_type="patient",
                         entity_id=body["id"])
