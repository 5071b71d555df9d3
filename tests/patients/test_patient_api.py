"""Patient API: create, read, search, update, void, with clinic and patient scoping."""

from __future__ import annotations

from support import audit_entries


def test_created_patient_gets_uuid_and_record_number(world):
    c = world.client("reception")
    r = c.post(
        "/api/v1/patients",
        json={
            "given_name": "Zoe",
            "family_name": "Park",
            "birth_date": "1990-02-03",
            "sex": "female",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["record_number"].startswith("MC-")
    assert body["clinic_id"] == str(world.clinic_a.id)
    assert c.get(f"/api/v1/patients/{body['id']}").json()["given_name"] == "Zoe"
    assert audit_entries(world.db, action="create", entity_type="patient", entity_id=body["id"])


def _count(world, model):
    from sqlalchemy import func, select

    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_invalid_patient_is_422_naming_the_field_and_nothing_is_stored(world):
    from mesoclinic.patients.models import Patient

    before = _count(world, Patient)
    c = world.client("clinician")
    cases = [
        (
            {"given_name": "", "family_name": "X", "birth_date": "1990-01-01", "sex": "male"},
            "given_name",
        ),
        (
            {"given_name": "A", "family_name": "X", "birth_date": "2999-01-01", "sex": "male"},
            "birth_date",
        ),
        (
            {"given_name": "A", "family_name": "X", "birth_date": "1990-01-01", "sex": "robot"},
            "sex",
        ),
        (
            {
                "given_name": "A",
                "family_name": "X",
                "birth_date": "1990-01-01",
                "sex": "male",
                "email": "not-an-email",
            },
            "email",
        ),
        (
            {
                "given_name": "A",
                "family_name": "X",
                "birth_date": "1990-01-01",
                "sex": "male",
                "phone": "call me",
            },
            "phone",
        ),
        (
            {
                "given_name": "A",
                "family_name": "X",
                "birth_date": "1990-01-01",
                "sex": "male",
                "favourite_colour": "blue",
            },
            "favourite_colour",
        ),
    ]
    for body, field in cases:
        r = c.post("/api/v1/patients", json=body)
        assert r.status_code == 422, body
        assert r.json()["error"]["field"] == field
        assert r.json()["error"]["message"]
    assert _count(world, Patient) == before


def test_patch_changes_only_sent_fields_and_is_audited(world):
    c = world.client("nurse")
    pid = str(world.patient_a.id)
    r = c.patch(f"/api/v1/patients/{pid}", json={"phone": "+44 20 7946 0999"})
    assert r.status_code == 200
    assert r.json()["phone"] == "+44 20 7946 0999"
    assert r.json()["email"] == "ana@example.org"
    entry = audit_entries(world.db, action="update", entity_id=pid)[-1]
    assert entry.actor_username == world.users["nurse"].username
    assert "phone" in entry.detail


def test_patch_cannot_blank_a_required_field(world):
    r = world.client("nurse").patch(
        f"/api/v1/patients/{world.patient_a.id}", json={"family_name": None}
    )
    assert r.status_code == 422


def test_patch_refuses_an_empty_email_opt_out_in_words(world):
    """Schemathesis found `{"email_opt_out": null}` answered 500 (the column is NOT NULL)."""
    url = f"/api/v1/patients/{world.patient_a.id}"
    r = world.client("nurse").patch(url, json={"email_opt_out": None})
    assert r.status_code == 422, r.text
    assert "email_opt_out must be true or false" in r.json()["error"]["message"]
    assert world.client("nurse").get(url).json()["email_opt_out"] is False


def test_every_read_of_a_patient_is_audited_with_actor_and_address(world):
    pid = str(world.patient_a.id)
    world.client("reception").get(f"/api/v1/patients/{pid}")
    reads = audit_entries(world.db, action="read", entity_type="patient", entity_id=pid)
    assert len(reads) == 1
    assert reads[0].actor_username == world.users["reception"].username
    assert reads[0].client_addr
    assert reads[0].patient_id == world.patient_a.id


def test_search_finds_by_name_birth_date_phone_and_record_number(world):
    c = world.client("reception")
    record = world.patient_a.record_number

    def ids(params):
        return {p["id"] for p in c.get("/api/v1/patients", params=params).json()["items"]}

    a = str(world.patient_a.id)
    assert ids({"q": "silva"}) == {a}
    assert ids({"q": "ana silva"}) == {a}
    assert ids({"birth_date": "1985-04-12"}) == {a}
    assert ids({"q": "7946 0001"}) == {a}
    assert ids({"q": record}) == {a}
    assert audit_entries(world.db, action="search")


def test_search_pages_results(world):
    c = world.client("clinician")
    for i in range(5):
        assert (
            c.post(
                "/api/v1/patients",
                json={
                    "given_name": f"P{i}",
                    "family_name": "Paged",
                    "birth_date": "1990-01-01",
                    "sex": "other",
                },
            ).status_code
            == 201
        )
    first = c.get("/api/v1/patients", params={"q": "paged", "limit": 2}).json()
    second = c.get("/api/v1/patients", params={"q": "paged", "limit": 2, "offset": 2}).json()
    assert first["total"] == 5 and len(first["items"]) == 2
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


def test_staff_of_another_clinic_cannot_read_or_find_the_patient(world):
    c = world.client("clinician_b")
    pid = world.patient_a.id
    assert c.get(f"/api/v1/patients/{pid}").status_code == 404
    assert c.patch(f"/api/v1/patients/{pid}", json={"phone": "+34 600 000 000"}).status_code == 404
    assert c.get(f"/api/v1/patients/{pid}/history").status_code == 404
    found = c.get("/api/v1/patients", params={"q": "silva"}).json()
    assert found["total"] == 0
    assert {p["id"] for p in c.get("/api/v1/patients").json()["items"]} == {str(world.patient_b.id)}


def test_group_admin_sees_every_clinic(world):
    items = world.client("admin").get("/api/v1/patients").json()["items"]
    assert {str(world.patient_a.id), str(world.patient_b.id)} <= {p["id"] for p in items}


def test_patient_user_reads_only_their_own_record(world):
    c = world.client("patient")
    assert c.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200
    assert c.get(f"/api/v1/patients/{world.other_patient_a.id}").status_code == 404
    assert c.get(f"/api/v1/patients/{world.other_patient_a.id}/history").status_code == 404
    listed = c.get("/api/v1/patients").json()["items"]
    assert [p["id"] for p in listed] == [str(world.patient_a.id)]
    assert (
        c.patch(f"/api/v1/patients/{world.patient_a.id}", json={"phone": "+44 1"}).status_code
        == 403
    )


def test_patient_user_cannot_open_another_patients_page(world):
    web = world.web("patient")
    assert web.get(f"/patients/{world.patient_a.id}").status_code == 200
    assert web.get(f"/patients/{world.other_patient_a.id}").status_code == 404
    assert web.get("/").headers["location"] == f"/patients/{world.patient_a.id}/aftercare"


def test_voided_record_is_kept_read_only_and_hidden_from_search(world):
    c = world.client("clinician")
    pid = world.other_patient_a.id
    assert c.post(f"/api/v1/patients/{pid}/void", json={"reason": "x"}).status_code == 422
    r = c.post(f"/api/v1/patients/{pid}/void", json={"reason": "duplicate record"})
    assert r.status_code == 200 and r.json()["status"] == "entered-in-error"
    assert c.get(f"/api/v1/patients/{pid}").status_code == 200
    assert c.patch(f"/api/v1/patients/{pid}", json={"phone": "+44 20 1111 1111"}).status_code == 409
    assert str(pid) not in {p["id"] for p in c.get("/api/v1/patients").json()["items"]}
    assert str(pid) in {
        p["id"] for p in c.get("/api/v1/patients", params={"include_voided": True}).json()["items"]
    }
    assert (
        world.client("nurse")
        .post(f"/api/v1/patients/{world.patient_a.id}/void", json={"reason": "duplicate"})
        .status_code
        == 403
    )


def test_admin_creates_patient_in_a_named_clinic(world):
    c = world.client("admin")
    body = {"given_name": "Gil", "family_name": "Admin", "birth_date": "1970-05-05", "sex": "male"}
    r = c.post("/api/v1/patients", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "clinic_id"
    r = c.post(f"/api/v1/patients?clinic_id={world.clinic_b.id}", json=body)
    assert r.status_code == 201 and r.json()["clinic_id"] == str(world.clinic_b.id)
