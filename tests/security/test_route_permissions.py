"""Every route declares the permission it needs, and every role gets allowed / 401 / 403.

The matrix is built from the app's own route table, so routes added by any area are covered.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute

from mesoclinic.app import create_app
from mesoclinic.config import Settings
from mesoclinic.security.permissions import Permission, Role, has_permission

PERSONAS = ("admin", "clinician", "nurse", "reception", "patient")


def _declared_permission(route: APIRoute) -> Permission | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        permission = getattr(dep.call, "permission", None)
        if permission is not None:
            return permission  # type: ignore[no-any-return]
        stack.extend(dep.dependencies)
    return None


def _is_public(route: APIRoute) -> bool:
    return bool(getattr(route.endpoint, "is_public", False))


def _routes() -> list[APIRoute]:
    app = create_app(
        Settings(database_url="sqlite://", secret_key="x" * 40, environment="test"),
        run_migrations=False,
    )
    return list(_flatten(app.routes))


def _flatten(routes: list[Any]) -> Any:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's lazily included router
            yield from _flatten(route.original_router.routes)


ROUTES = _routes()
CASES = [
    (route, method)
    for route in ROUTES
    if not _is_public(route)
    for method in sorted(route.methods - {"HEAD"})
]


def _case_id(case: tuple[APIRoute, str]) -> str:
    return f"{case[1]} {case[0].path}"


def test_every_route_declares_a_permission_or_is_public():
    undeclared = [
        f"{sorted(r.methods)} {r.path}"
        for r in ROUTES
        if not _is_public(r) and _declared_permission(r) is None
    ]
    assert undeclared == []


def _fill_path(path: str, world: Any) -> str:
    values = {"patient_id": str(world.patient_a.id)}
    out = path
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        name = out[start + 1 : end].split(":")[0]
        out = out[:start] + values.get(name, _placeholder(name)) + out[end + 1 :]
    return out


def _placeholder(name: str) -> str:
    if name in ("kind",):
        return "allergies"
    if name in ("n", "number", "index", "seq"):
        return "1"
    return str(uuid.uuid4())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_route_answers_each_role_as_declared(case, world):
    route, method = case
    permission = _declared_permission(route)
    assert permission is not None
    url = _fill_path(route.path, world)
    is_api = route.path.startswith(("/api/", "/fhir/"))

    anonymous = world.client("admin")
    anonymous.headers.pop("Authorization")
    anonymous.follow_redirects = False
    r = anonymous.request(method, url, json={} if method != "GET" else None)
    if is_api:
        assert r.status_code == 401, r.text
    else:
        assert r.status_code in (303, 401) and "/login" in r.headers.get("location", "/login")

    for persona in PERSONAS:
        client = world.client(persona)
        client.follow_redirects = False
        r = client.request(method, url, json={} if method != "GET" else None)
        if has_permission(Role(world.users[persona].role), permission):
            assert r.status_code not in (401, 403), f"{persona}: {r.status_code} {r.text[:200]}"
        else:
            assert r.status_code == 403, f"{persona}: {r.status_code} {r.text[:200]}"
