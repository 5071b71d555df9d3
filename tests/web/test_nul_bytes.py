"""NUL characters are refused (422) in every text input, on both databases: PostgreSQL cannot
store them (a 500) and a SQLite backup holding one could not be restored into PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from mesoclinic.patients.models import Patient
from support import csrf_from

NUL = "a\x00b"


def _string_properties(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    names = []
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        if any(o.get("type") == "string" and "format" not in o for o in options):
            names.append(name)
    return names


def test_every_json_body_string_field_refuses_nul(world: Any) -> None:
    client = world.client("admin")
    doc = client.get("/api/v1/openapi.json").json()
    components = doc["components"]["schemas"]
    checked = 0
    for path, item in doc["paths"].items():
        url = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
        url = url.replace("/sessions/00000000-0000-4000-8000-000000000000", "/sessions/1")
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body_schema = content["application/json"]["schema"]
            for name in _string_properties(body_schema, components):
                r = client.request(method, url, json={name: NUL})
                assert r.status_code == 422, (method, path, name, r.status_code)
                fields = {d["field"] for d in r.json()["error"].get("details", [])}
                assert name in fields, (method, path, name, r.json())
                checked += 1
    assert checked > 20


def test_a_nul_in_a_created_record_names_the_field(world: Any) -> None:
    body = {"given_name": NUL, "family_name": "Lopez", "birth_date": "1991-07-08", "sex": "female"}
    r = world.client("reception").post("/api/v1/patients", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "given_name"


def test_query_parameters_refuse_nul(world: Any) -> None:
    r = world.client("reception").get("/api/v1/patients", params={"q": NUL})
    assert r.status_code == 422 and r.json()["error"]["field"] == "q"
    assert world.web("reception").get("/patients", params={"q": NUL}).status_code == 422


def test_forms_refuse_nul_and_store_nothing(world: Any) -> None:
    web = world.web("reception")
    token = csrf_from(web.get("/patients/new").text)
    with world.db.factory() as s:
        before = s.execute(select(func.count()).select_from(Patient)).scalar_one()
    r = web.post(
        "/patients/new",
        data={
            "csrf_token": token,
            "given_name": "Maya",
            "family_name": NUL,
            "birth_date": "1991-07-08",
            "sex": "female",
        },
    )
    assert r.status_code == 422
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(Patient)).scalar_one() == before


def test_the_login_form_refuses_nul(anon: Any) -> None:
    token = csrf_from(anon.get("/login").text)
    r = anon.post(
        "/login", data={"csrf_token": token, "username": NUL, "password": "whatever-password"}
    )
    assert r.status_code == 422
