"""`mesoclinic clinics|users|audit`: the group's clinics, user accounts and the audit log."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.command import console, fail, open_database, read_password
from mesoclinic.config import Settings
from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.security import audit, audit_seal
from mesoclinic.security import service as security_service
from mesoclinic.security.actor import cli_actor

clinics_app = typer.Typer(help="Clinics of the group.", no_args_is_help=True)
users_app = typer.Typer(help="Staff and patient user accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(clinics_app, name="clinics")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")


@clinics_app.command("create")
def clinics_create(
    name: str, timezone: Annotated[str, typer.Option(help="IANA time zone")] = "Europe/London"
) -> None:
    """Add a clinic to the group."""
    _settings, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            clinic = security_service.create_clinic(
                session, cli_actor(), name=name, timezone=timezone
            )
            console.print(f"created clinic {clinic.name} ({clinic.id})")
    except DomainError as exc:
        raise fail(exc.message) from exc


@clinics_app.command("list")
def clinics_list() -> None:
    """List the clinics of the group."""
    _settings, factory = open_database()
    with unit_of_work(factory) as session:
        for clinic in security_service.list_clinics(session):
            console.print(f"{clinic.name}\t{clinic.timezone}\t{clinic.id}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[
        str,
        typer.Option(
            help="admin (the group's, no clinic), clinic_admin, clinician, nurse, reception "
            "or patient"
        ),
    ],
    clinic: Annotated[
        str | None, typer.Option(help="clinic name (every role but admin, which refuses it)")
    ] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    email: Annotated[str | None, typer.Option()] = None,
    patient_id: Annotated[str | None, typer.Option(help="patient record id (patient role)")] = None,
) -> None:
    """Add a user; the password is read from standard input."""
    password = read_password(confirm=True)
    _settings, factory = open_database()
    try:
        pid = uuid.UUID(patient_id) if patient_id else None
    except ValueError as exc:
        raise fail("--patient-id must be a UUID") from exc
    try:
        with unit_of_work(factory) as session:
            user = security_service.create_user(
                session,
                cli_actor(),
                username=username,
                role=role,
                password=password,
                clinic_name=clinic,
                display_name=name,
                email=email,
                patient_id=pid,
            )
            console.print(f"created {user.role} {user.username}")
    except DomainError as exc:
        raise fail(f"{exc.field}: {exc.message}" if exc.field else exc.message) from exc


@users_app.command("set-password")
def users_set_password(username: str) -> None:
    """Set a user's password (read from standard input) and lift any lock-out."""
    password = read_password(confirm=True)
    _settings, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            security_service.set_password(
                session, cli_actor(), username=username, password=password
            )
    except DomainError as exc:
        raise fail(exc.message) from exc
    console.print(f"password set for {username}")


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """Lift the sign-in lock-outs on a username (every address); known addresses stay known."""
    _settings, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            lifted = security_service.unlock_login(session, cli_actor(), username=username)
    except DomainError as exc:
        raise fail(exc.message) from exc
    console.print(f"{username}: {lifted} lock-out(s) lifted; failure counts cleared")


@audit_app.command("verify")
def audit_verify(
    seal: Annotated[
        bool, typer.Option(help="seal committed entries first (--no-seal: only read)")
    ] = True,
    stale_minutes: Annotated[
        float, typer.Option(help="fail if an entry has waited longer than this to be sealed")
    ] = 60.0,
) -> None:
    """Check the audit log's hash chain and signed checkpoints; exits non-zero naming the first
    broken entry."""
    settings, factory = open_database()
    if seal:
        _seal(settings, factory)
    key = audit_seal.checkpoint_key(settings, create=False)
    with unit_of_work(factory) as session:
        report = audit.verify(session, key=key, stale_after=timedelta(minutes=stale_minutes))
    if not report.ok:
        raise fail(f"audit chain broken at entry {report.broken_seq}: {report.problem}")
    console.print(f"audit chain intact: {report.checked} entries verified")
    if key is None:
        console.print("[yellow]no audit key: signed checkpoints were not checked[/yellow]")
    else:
        console.print(f"{report.checkpoints} signed checkpoints verified")
    if report.unsealed:
        console.print(f"{report.unsealed} newer entries are not sealed yet")


@audit_app.command("seal")
def audit_seal_command() -> None:
    """Seal committed audit entries into the hash chain now (the worker does it every pass)."""
    settings, factory = open_database()
    console.print(_seal(settings, factory))


def _seal(settings: Settings, factory: sessionmaker[Session]) -> str:
    return str(audit_seal.seal_pass(factory, settings))
