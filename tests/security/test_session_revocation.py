"""Ending sessions: a password change ends every session and token of that user; a caller can
list and revoke their own tokens; an administrator can sign a user out everywhere."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from mesoclinic.db import unit_of_work
from mesoclinic.security import service
from mesoclinic.security.actor import cli_actor
from support import TEST_PASSWORD, audit_entries, csrf_from


def _new_token(world: Any, persona: str) -> TestClient:
    c = TestClient(world.app, base_url="https://testserver")
    r = c.post(
        "/api/v1/auth/token",
        json={"username": world.users[persona].username, "password": TEST_PASSWORD},
    )
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def test_changing_a_password_ends_every_session_and_token(world: Any) -> None:
    api = _new_token(world, "nurse")
    web = world.web("nurse")
    assert api.get("/api/v1/me").status_code == 200
    assert web.get("/patients").status_code == 200
    with unit_of_work(world.db.factory) as s:
        service.set_password(
            s, cli_actor(), username=world.users["nurse"].username, password="velvet-otter-42"
        )
    assert api.get("/api/v1/me").status_code == 401
    assert world.client("nurse").get("/api/v1/me").status_code == 401
    r = web.get("/patients")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert world.client("clinician").get("/api/v1/me").status_code == 200  # others stay


def test_a_caller_lists_and_revokes_their_own_tokens(world: Any) -> None:
    api = _new_token(world, "reception")
    other = _new_token(world, "reception")
    listed = api.get("/api/v1/auth/tokens")
    assert listed.status_code == 200
    tokens = listed.json()
    assert len(tokens) >= 3  # the world's, and the two above
    assert sum(t["current"] for t in tokens) == 1
    assert all(
        set(t) == {"id", "kind", "created_at", "expires_at", "client_addr", "current"}
        for t in tokens
    )
    assert "token_hash" not in listed.text
    other_id = next(t["id"] for t in other.get("/api/v1/auth/tokens").json() if t["current"])
    assert api.delete(f"/api/v1/auth/tokens/{other_id}").status_code == 204
    assert other.get("/api/v1/me").status_code == 401
    assert world.client("clinician").delete(f"/api/v1/auth/tokens/{other_id}").status_code == 404
    assert api.delete("/api/v1/auth/token").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


def test_an_admin_signs_a_user_out_everywhere(world: Any) -> None:
    api = _new_token(world, "clinician")
    nurse_web = world.web("nurse")
    user_id = world.users["clinician"].id
    assert (
        world.client("reception").post(f"/api/v1/users/{user_id}/end-sessions").status_code == 403
    )
    r = world.client("admin").post(f"/api/v1/users/{user_id}/end-sessions")
    assert r.status_code == 200 and r.json()["ended"] >= 2
    assert api.get("/api/v1/me").status_code == 401
    assert world.client("clinician").get("/api/v1/me").status_code == 401
    assert audit_entries(world.db, action="end_sessions")
    admin_web = world.web("admin")
    token = csrf_from(admin_web.get("/admin/users").text)
    r = admin_web.post(
        f"/admin/users/{world.users['nurse'].id}/end-sessions", data={"csrf_token": token}
    )
    assert r.status_code == 303
    assert nurse_web.get("/patients").status_code == 303


def test_changing_ones_password_on_the_web_signs_out_everywhere(world: Any) -> None:
    api = _new_token(world, "reception")
    web = world.web("reception")
    page = web.get("/account/password")
    assert page.status_code == 200
    token = csrf_from(page.text)
    form = {"csrf_token": token, "current_password": TEST_PASSWORD}
    weak = web.post(
        "/account/password", data={**form, "password": "1234567890", "confirm": "1234567890"}
    )
    assert weak.status_code == 422 and "common" in weak.text
    wrong = web.post(
        "/account/password",
        data={
            **form,
            "current_password": "not-my-password",
            "password": "velvet-otter-42",
            "confirm": "velvet-otter-42",
        },
    )
    assert wrong.status_code == 422 and "current password" in wrong.text
    assert api.get("/api/v1/me").status_code == 200  # refusals end nothing
    r = web.post(
        "/account/password",
        data={**form, "password": "velvet-otter-42", "confirm": "velvet-otter-42"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert api.get("/api/v1/me").status_code == 401
    assert web.get("/patients").status_code == 303
