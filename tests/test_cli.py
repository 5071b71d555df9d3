"""Staff command line: clinics and users."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from mesoclinic.security.models import User
from mesoclinic.security.service import verify_password


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(build_app(), list(args), input=input)


@pytest.mark.committed  # the CLI opens its own engine
def test_clinic_and_users_are_created_with_the_password_from_stdin(cli, db):
    assert cli("clinics", "create", "North Clinic").exit_code == 0
    r = cli(
        "users",
        "create",
        "--username",
        "dr.who",
        "--role",
        "clinician",
        "--clinic",
        "North Clinic",
        input="a-long-password\n",
    )
    assert r.exit_code == 0, r.output
    with db.factory() as s:
        user = s.execute(select(User).where(User.username == "dr.who")).scalar_one()
        assert user.role == "clinician"
        assert verify_password(user.password_hash, "a-long-password")


@pytest.mark.committed  # the CLI opens its own engine
def test_user_errors_exit_nonzero_with_a_message(cli):
    cli("clinics", "create", "North Clinic")
    r = cli("users", "create", "--username", "n1", "--role", "nurse", input="a-long-password\n")
    assert r.exit_code != 0 and "clinic" in r.output
    r = cli(
        "users",
        "create",
        "--username",
        "n1",
        "--role",
        "wizard",
        "--clinic",
        "North Clinic",
        input="a-long-password\n",
    )
    assert r.exit_code != 0 and "role" in r.output
    r = cli(
        "users",
        "create",
        "--username",
        "n1",
        "--role",
        "nurse",
        "--clinic",
        "North Clinic",
        input="short\n",
    )
    assert r.exit_code != 0 and "password" in r.output.lower()
    r = cli(
        "users",
        "create",
        "--username",
        "n1",
        "--role",
        "nurse",
        "--clinic",
        "Nowhere",
        input="a-long-password\n",
    )
    assert r.exit_code != 0 and "Nowhere" in r.output
    assert cli("clinics", "create", "North Clinic").exit_code != 0


@pytest.mark.committed  # the CLI opens its own engine
def test_admin_needs_no_clinic(cli):
    r = cli(
        "users", "create", "--username", "root.admin", "--role", "admin", input="a-long-password\n"
    )
    assert r.exit_code == 0, r.output


@pytest.mark.committed  # the CLI opens its own engine
def test_group_admin_with_a_clinic_is_refused_and_a_clinic_admin_needs_one(cli, db):
    cli("clinics", "create", "North Clinic")
    base = ("users", "create", "--username", "boss")
    r = cli(*base, "--role", "admin", "--clinic", "North Clinic", input="a-long-password\n")
    assert r.exit_code != 0 and "clinic_admin" in r.output
    r = cli(*base, "--role", "clinic_admin", input="a-long-password\n")
    assert r.exit_code != 0 and "clinic" in r.output
    r = cli(*base, "--role", "clinic_admin", "--clinic", "North Clinic", input="a-long-password\n")
    assert r.exit_code == 0, r.output
    with db.factory() as s:
        user = s.execute(select(User).where(User.username == "boss")).scalar_one()
        assert user.role == "clinic_admin" and user.clinic_id is not None


def test_every_area_command_is_on_the_root_command():
    import typer
    from typer.main import get_command

    root = get_command(build_app())
    names = set(root.list_commands(typer.Context(root)))  # type: ignore[attr-defined]
    assert {
        "serve",
        "demo",
        "db",
        "clinics",
        "users",
        "audit",
        "backup",
        "restore",
        "worker",
        "rules",
        "stock",
        "protocols",
        "analyze",
    } <= names


@pytest.mark.committed  # the CLI opens its own engine
def test_set_password_lifts_the_login_lock_out(cli, world, anon):
    name = world.users["clinician"].username

    def sign_in(password: str) -> int:
        body = {"username": name, "password": password}
        return anon.post("/api/v1/auth/token", json=body).status_code

    for _ in range(5):
        assert sign_in("bad-password-1") == 401
    assert sign_in("a-new-long-password") == 429
    r = cli("users", "set-password", name, input="a-new-long-password\na-new-long-password\n")
    assert r.exit_code == 0, r.output
    assert sign_in("a-new-long-password") == 200
