"""Issue 16, item 15: guessers are slowed per username and address, and nobody can lock a
known-good login out from elsewhere; `users unlock` and a new password lift lock-outs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from mesoclinic.security.login_throttle import ADDRESS_FACTOR
from support import TEST_PASSWORD, audit_entries

MAX_FAILURES = 5  # settings_for's login_max_failures


def _from(world, address: str) -> TestClient:
    return TestClient(world.app, base_url="https://testserver", client=(address, 40000))


def _sign_in(world, address: str, username: str, password: str = TEST_PASSWORD) -> int:
    body = {"username": username, "password": password}
    return _from(world, address).post("/api/v1/auth/token", json=body).status_code


def test_failures_from_one_address_lock_that_address_only(world):
    name = world.users["nurse"].username
    for _ in range(MAX_FAILURES):
        assert _sign_in(world, "10.9.0.1", name, "wrong-password-1") == 401
    assert _sign_in(world, "10.9.0.1", name) == 429
    assert _sign_in(world, "10.0.0.7", name) == 200  # the nurse, elsewhere, still signs in


def test_a_stranger_cannot_lock_out_an_address_that_signed_in_before(world):
    name = world.users["admin"].username
    assert _sign_in(world, "10.0.0.1", name) == 200  # the administrator's own desk
    # A guesser rotating addresses, never enough per address to be locked there.
    for i in range(MAX_FAILURES * ADDRESS_FACTOR):
        address = f"10.9.{i // (MAX_FAILURES - 1)}.1"
        assert _sign_in(world, address, name, "wrong-password-1") == 401
    # The username is now backed off for addresses that never signed in as admin ...
    assert _sign_in(world, "10.9.99.1", name) == 429
    locked = _from(world, "10.9.99.2").post(
        "/api/v1/auth/token", json={"username": name, "password": TEST_PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 60 * 15  # longer than one address's lock-out
    # ... but not for the administrator's known-good address.
    assert _sign_in(world, "10.0.0.1", name) == 200


def test_unknown_usernames_are_throttled_like_known_ones(world):
    for _ in range(MAX_FAILURES):
        assert _sign_in(world, "10.9.0.3", "nobody.here", "wrong-password-1") == 401
    assert _sign_in(world, "10.9.0.3", "nobody.here", "wrong-password-1") == 429


def test_a_success_resets_the_address_count(world):
    name = world.users["reception"].username
    for _ in range(MAX_FAILURES - 1):
        assert _sign_in(world, "10.0.0.8", name, "wrong-password-1") == 401
    assert _sign_in(world, "10.0.0.8", name) == 200
    for _ in range(MAX_FAILURES - 1):
        assert _sign_in(world, "10.0.0.8", name, "wrong-password-1") == 401
    assert _sign_in(world, "10.0.0.8", name) == 200


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(build_app(), list(args), input=input)


@pytest.mark.committed  # the CLI opens its own engine
def test_users_unlock_lifts_every_lock_out_on_the_username(cli, world, db):
    name = world.users["clinician"].username
    for i in range(MAX_FAILURES * ADDRESS_FACTOR):
        _sign_in(world, f"10.9.{i // (MAX_FAILURES - 1)}.1", name, "wrong-password-1")
    for _ in range(MAX_FAILURES):
        _sign_in(world, "10.9.50.1", name, "wrong-password-1")
    assert _sign_in(world, "10.9.50.1", name) == 429
    assert _sign_in(world, "10.0.0.2", name) == 429
    r = cli("users", "unlock", name)
    assert r.exit_code == 0 and "lifted" in r.output, r.output
    assert _sign_in(world, "10.9.50.1", name) == 200
    assert _sign_in(world, "10.0.0.2", name) == 200
    assert audit_entries(db, action="unlock_login")
