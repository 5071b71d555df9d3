"""A form posted twice, or an API create sent twice with one Idempotency-Key, stores once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from mesoclinic.db import utcnow
from mesoclinic.patients.models import Patient
from mesoclinic.security.idempotency import purge_expired
from mesoclinic.security.models import IdempotencyKey
from support import csrf_from


def _form_token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "every form carries a one-time form token"
    return found.group(1)


def _patients_named(world: Any, family: str) -> int:
    with world.db.factory() as s:
        stmt = select(func.count()).select_from(Patient).where(Patient.family_name == family)
        return s.execute(stmt).scalar_one()


PATIENT = {
    "given_name": "Dana",
    "family_name": "Twice",
    "birth_date": "1988-03-03",
    "sex": "female",
}


def test_the_same_form_posted_twice_registers_one_patient(world):
    web = world.web("reception")
    page = web.get("/patients/new").text
    form = {"csrf_token": csrf_from(page), "form_token": _form_token(page), **PATIENT}
    first = web.post("/patients/new", data=form)
    second = web.post("/patients/new", data=form)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert _patients_named(world, "Twice") == 1
    assert "already sent" in web.get(second.headers["location"]).text
    fresh = web.get("/patients/new").text
    assert _form_token(fresh) != form["form_token"]  # a new form, a new token


def test_a_refused_form_leaves_its_token_usable(world):
    web = world.web("reception")
    page = web.get("/patients/new").text
    form = {"csrf_token": csrf_from(page), "form_token": _form_token(page), **PATIENT}
    refused = web.post("/patients/new", data={**form, "birth_date": "2999-01-01"})
    assert refused.status_code == 422
    assert web.post("/patients/new", data=form).status_code == 303
    assert _patients_named(world, "Twice") == 1


def test_api_create_with_the_same_key_answers_the_first_response(world):
    api = world.client("reception")
    headers = {"Idempotency-Key": '"reg-7f3a"'}
    first = api.post("/api/v1/patients", json=PATIENT, headers=headers)
    again = api.post("/api/v1/patients", json=PATIENT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _patients_named(world, "Twice") == 1
    other = api.post("/api/v1/patients", json={**PATIENT, "given_name": "Eve"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["field"] == "Idempotency-Key"
    assert _patients_named(world, "Twice") == 1


def test_keys_are_scoped_per_user_and_without_a_key_nothing_changes(world):
    headers = {"Idempotency-Key": "same-key"}
    assert (
        world.client("reception")
        .post("/api/v1/patients", json=PATIENT, headers=headers)
        .status_code
        == 201
    )
    assert (
        world.client("clinician")
        .post("/api/v1/patients", json=PATIENT, headers=headers)
        .status_code
        == 201
    )
    assert world.client("reception").post("/api/v1/patients", json=PATIENT).status_code == 201
    assert _patients_named(world, "Twice") == 3
    with world.db.factory() as s:
        owners = s.execute(
            select(IdempotencyKey.user_id).where(IdempotencyKey.scope == "api")
        ).scalars()
        assert sorted(map(str, owners)) == sorted(
            str(world.users[p].id) for p in ("reception", "clinician")
        )


def test_bad_keys_are_refused_in_plain_words(world):
    api = world.client("reception")
    for bad in ('""', "x" * 201):
        r = api.post("/api/v1/patients", json=PATIENT, headers={"Idempotency-Key": bad})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "Idempotency-Key" or "Idempotency" in r.text
    assert _patients_named(world, "Twice") == 0


def test_every_api_create_replays_with_the_same_key(world):
    api = world.client("clinician")
    base = f"/api/v1/patients/{world.patient_a.id}"
    creates = [
        (f"{base}/allergies", {"substance": "latex"}),
        (f"{base}/medications", {"name": "Aspirin"}),
        (f"{base}/conditions", {"name": "Diabetes"}),
        (f"{base}/pregnancy-statuses", {"value": "not_pregnant"}),
        (f"{base}/assessments", {"diagnosis": "telogen_effluvium"}),
        (
            f"{base}/plans",
            {"protocol_code": "minoxidil", "start_date": "2030-01-07", "activate": False},
        ),
    ]
    for i, (url, body) in enumerate(creates):
        headers = {"Idempotency-Key": f"k-{i}"}
        first = api.post(url, json=body, headers=headers)
        assert first.status_code == 201, (url, first.text)
        again = api.post(url, json=body, headers=headers)
        assert again.status_code == 201 and again.json() == first.json(), url
        assert again.headers["idempotent-replayed"] == "true"
    history = api.get(f"{base}/history").json()
    assert [a["substance"] for a in history["allergies"]].count("latex") == 1
    assert len(api.get(f"{base}/plans").json()) == 1


def test_expired_keys_are_purged_and_an_expired_key_can_be_used_again(world):
    api = world.client("reception")
    headers = {"Idempotency-Key": "old-key"}
    assert api.post("/api/v1/patients", json=PATIENT, headers=headers).status_code == 201
    with world.db.factory() as s, s.begin():
        for row in s.execute(select(IdempotencyKey)).scalars():
            row.expires_at = utcnow() - timedelta(seconds=1)
    again = api.post("/api/v1/patients", json=PATIENT, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert _patients_named(world, "Twice") == 2
    with world.db.factory() as s, s.begin():
        for row in s.execute(select(IdempotencyKey)).scalars():
            row.expires_at = utcnow() - timedelta(seconds=1)
        assert purge_expired(s) == 1
        assert s.execute(select(func.count()).select_from(IdempotencyKey)).scalar_one() == 0
