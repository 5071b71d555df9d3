"""Drill kept in the suite (issue 16): every route x persona, generated from the app's own route
table, against clinic A's objects, plus malformed and unknown ids on every route with a path id.

Fails on any leak (a 2xx or a redirect into a page for a persona who must not see clinic A
patient A1's data, or A1's identity in any body they get) and on any 5xx. Requests run in-process
inside the test's rolled-back transaction, so the whole matrix costs seconds, not a server.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from drills.drill_world import (
    INSIDERS,
    NOT_SCOPED,
    OUTSIDERS,
    PERSONAS,
    fill,
    ids,
    markers,
    path_params,
    routes,
)

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Unsafe routes that act on the path alone (no body to get wrong): signing oneself out or
# ending one's own token would end the persona's session in the middle of the drill. They are
# covered by tests/security (test_session_revocation, test_auth).
BODYLESS = {
    ("POST", "/logout"),
    ("DELETE", "/api/v1/auth/token"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"),
    ("POST", "/api/v1/users/{user_id}/end-sessions"),
    ("POST", "/admin/users/{user_id}/end-sessions"),
}
# Unsafe routes where an empty body is a complete, valid request for those allowed to make it:
# all-optional updates (a no-op), actions named by the path, a stateless preview, the aftercare
# sheet sent to the patient's address on file. Outsiders are still refused on each.
ACCEPTS_EMPTY = {
    ("PATCH", "/api/v1/patients/{patient_id}"),
    ("POST", "/patients/{patient_id}/edit"),
    ("PATCH", "/api/v1/sites/{site_id}"),
    ("POST", "/patients/{patient_id}/outcomes/sites/{site_id}"),
    ("POST", "/api/v1/patients/{patient_id}/{kind}/{item_id}/void"),
    ("POST", "/patients/{patient_id}/assessments/preview"),
    ("POST", "/api/v1/plans/{plan_id}/{action}"),
    ("DELETE", "/api/v1/clinic-calendar/closures/{closure_id}"),
    ("POST", "/api/v1/declared-events/{event_id}/void"),
    ("POST", "/patients/{patient_id}/aftercare/email"),
}
# /healthz reads the schema version on the app's own engine, which waits for the test's
# transaction on SQLite; it is public, holds no data, and test_areas covers it.
SKIPPED = {("GET", "/healthz")}
AUDIT_ROUTES = ("/api/v1/audit", "/admin/audit")


def _clients(world: Any) -> dict[str, TestClient]:
    clients = {}
    for persona in PERSONAS:
        client = world.client(persona)
        client.follow_redirects = False
        clients[persona] = client
    anonymous = TestClient(world.app, base_url="https://testserver", follow_redirects=False)
    clients["anonymous"] = anonymous
    return clients


def _scoped(route: Any) -> bool:
    return any(p not in NOT_SCOPED for p in path_params(route))


def _to_login(response: Any) -> bool:
    return response.status_code in (302, 303) and "/login" in response.headers.get("location", "")


def _problems(world: Any, route: Any, method: str, url: str, persona: str, r: Any) -> list[str]:
    where = f"{persona} {method} {url}: {r.status_code}"
    if r.status_code >= 500:
        return [f"{where} server error {r.text[:200]}"]
    found = []
    if persona == "anonymous":
        public = getattr(route.endpoint, "is_public", False)
        if not (r.status_code == 401 or _to_login(r) or (public and r.status_code < 500)):
            found.append(f"{where} anonymous was not sent to sign in")
        return found
    if persona in OUTSIDERS:
        if _scoped(route) and r.status_code < 400:
            found.append(f"{where} answered a persona outside clinic A / patient A1")
        leaked = [m for m in markers(world, persona) if m and m in r.text]
        if leaked:
            found.append(f"{where} body names {leaked}")
        if (
            r.status_code < 300
            and route.path not in AUDIT_ROUTES
            and str(world.patient_a.id) in r.text
        ):
            found.append(f"{where} body holds patient A1's id")
    return found


def _unknown_ids(route: Any) -> dict[str, str]:
    """Every scoped path id of the route replaced by one that names nothing."""
    return {p: str(uuid.uuid4()) for p in path_params(route) if p not in NOT_SCOPED}


def _oracle(method: str, url: str, persona: str, foreign: Any, unknown: Any) -> list[str]:
    """A record outside the caller's reach must answer exactly as an unknown id does (the same
    status: a 403 for one and a 404 for the other tells that the record exists)."""
    if foreign.status_code == unknown.status_code:
        return []
    return [
        f"{persona} {method} {url}: {foreign.status_code} for a foreign record but "
        f"{unknown.status_code} for an unknown id (an existence oracle)"
    ]


def _sweep(world: Any, methods: tuple[str, ...], body: Any) -> list[str]:
    values = ids(world)
    clients = _clients(world)
    problems: list[str] = []
    for route in routes(world.app):
        for method in sorted(route.methods & set(methods)):
            if (method, route.path) in BODYLESS | SKIPPED:
                continue
            url = fill(route, values)
            unknown = fill(route, values, **_unknown_ids(route))
            for persona, client in clients.items():
                r = client.request(method, url, **body)
                problems += _problems(world, route, method, url, persona, r)
                if persona in OUTSIDERS and _scoped(route):
                    problems += _oracle(
                        method, url, persona, r, client.request(method, unknown, **body)
                    )
                accepts = (method, route.path) in ACCEPTS_EMPTY and persona in INSIDERS
                if (
                    method in UNSAFE
                    and persona != "anonymous"
                    and r.status_code < 400
                    and not accepts
                ):
                    problems.append(f"{persona} {method} {url}: {r.status_code} took an empty body")
    return problems


@pytest.mark.timeout(900)  # ~1,560 requests, plus an unknown-id twin per outsider
def test_every_get_route_for_every_persona_leaks_nothing_and_never_fails(world):
    assert set(INSIDERS) | set(OUTSIDERS) <= set(world.tokens)
    problems = _sweep(world, ("GET",), {})
    assert problems == [], "\n".join(problems)


@pytest.mark.timeout(900)  # ~1,560 requests, plus an unknown-id twin per outsider
def test_every_unsafe_route_refuses_an_empty_body_for_every_persona(world):
    problems = _sweep(world, UNSAFE, {"json": {}})
    assert problems == [], "\n".join(problems)


def test_malformed_and_unknown_ids_are_4xx_on_every_route_with_a_path_id(world):
    values = ids(world)
    admin = world.client("admin")
    admin.follow_redirects = False
    problems = []
    for route in routes(world.app):
        names = [p for p in path_params(route) if p.endswith("_id")]
        for method in sorted(route.methods - {"HEAD"}):
            if not names or (method, route.path) in BODYLESS:
                continue
            for bad in ("not-a-uuid", str(uuid.uuid4()), "0" * 40):
                url = fill(route, values, **{n: bad for n in names})
                r = admin.request(method, url, json={} if method != "GET" else None)
                if not 400 <= r.status_code < 500:
                    problems.append(f"{method} {url}: {r.status_code} {r.text[:120]}")
    assert problems == [], "\n".join(problems)
