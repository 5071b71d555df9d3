"""The `mesoclinic` command: serve, database, clinics, users, audit, demo, backup, restore.

Each area with commands adds them through its own `cli.register(app)`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
from rich.console import Console

from mesoclinic import migrate
from mesoclinic.config import Settings, get_settings
from mesoclinic.db import make_engine, make_sessionmaker, unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.security import audit
from mesoclinic.security import service as security_service
from mesoclinic.security.actor import cli_actor

app = typer.Typer(help="mesoclinic: scalp mesotherapy clinic system.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
clinics_app = typer.Typer(help="Clinics of the group.", no_args_is_help=True)
users_app = typer.Typer(help="Staff and patient user accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(clinics_app, name="clinics")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
console = Console()
err = Console(stderr=True)

# Areas that add their own commands with `register(app)`.
AREA_CLI_MODULES = [
    "mesoclinic.backup",
    "mesoclinic.demo.cli",
    "mesoclinic.aftercare.cli",
    "mesoclinic.assessment.cli",
    "mesoclinic.formulary.cli",
    "mesoclinic.plans.cli",
    "mesoclinic.imaging.cli",
]


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def open_database(settings: Settings | None = None) -> tuple[Settings, object]:
    """Settings and a migrated session factory for a command."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    return settings, make_sessionmaker(engine)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    console.print(f"schema at {migrate.current_revision(engine)}")


@clinics_app.command("create")
def clinics_create(
    name: str, timezone: Annotated[str, typer.Option(help="IANA time zone")] = "Europe/London"
) -> None:
    """Add a clinic to the group."""
    _settings, factory = open_database()
    try:
        with unit_of_work(factory) as session:  # type: ignore[arg-type]
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
    with unit_of_work(factory) as session:  # type: ignore[arg-type]
        for clinic in security_service.list_clinics(session):
            console.print(f"{clinic.name}\t{clinic.timezone}\t{clinic.id}")


def read_password(confirm: bool) -> str:
    """A password from stdin: prompted on a terminal, first line when piped."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[str, typer.Option(help="admin, clinician, nurse, reception or patient")],
    clinic: Annotated[str | None, typer.Option(help="clinic name (all but admin)")] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    email: Annotated[str | None, typer.Option()] = None,
    patient_id: Annotated[str | None, typer.Option(help="patient record id (patient role)")] = None,
) -> None:
    """Add a user; the password is read from standard input."""
    import uuid

    password = read_password(confirm=True)
    _settings, factory = open_database()
    try:
        pid = uuid.UUID(patient_id) if patient_id else None
    except ValueError as exc:
        raise fail("--patient-id must be a UUID") from exc
    try:
        with unit_of_work(factory) as session:  # type: ignore[arg-type]
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
        with unit_of_work(factory) as session:  # type: ignore[arg-type]
            security_service.set_password(
                session, cli_actor(), username=username, password=password
            )
    except DomainError as exc:
        raise fail(exc.message) from exc
    console.print(f"password set for {username}")


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
    from datetime import timedelta

    from mesoclinic.security import audit_seal

    settings, factory = open_database()
    if seal:
        _seal(settings, factory)
    key = audit_seal.checkpoint_key(settings, create=False)
    with unit_of_work(factory) as session:  # type: ignore[arg-type]
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


def _seal(settings: Settings, factory: object) -> str:
    from mesoclinic.security import audit_seal

    key = audit_seal.checkpoint_key(settings, create=True)
    with unit_of_work(factory) as session:  # type: ignore[arg-type]
        report = audit_seal.seal(session, key=key, policy=audit_seal.checkpoint_policy(settings))
    signed = f", checkpoint at {report.checkpoint_seq}" if report.checkpoint_seq else ""
    return f"sealed {report.sealed} entries; chain at {report.head_seq}{signed}"


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="create the demo clinic if the database is empty")
    ] = False,
) -> None:
    """Run the web app and the JSON API."""
    import uvicorn

    from mesoclinic.app import create_app

    settings = get_settings()
    if demo and settings.database_url is None and "cookie_secure" not in settings.model_fields_set:
        # The demo runs on plain http://127.0.0.1; a real deployment sits behind HTTPS.
        settings.cookie_secure = False
    application = create_app(settings)
    if demo:
        from mesoclinic.demo import seed

        created = seed.ensure_demo(application.state.sessionmaker, settings)
        application.state.show_tour = True
        seed.print_welcome(console, f"http://{host}:{port}", created)
    else:
        console.print(f"mesoclinic on http://{host}:{port} (data in {settings.data_dir})")
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=False)


_registered: list[str] = []


def build_app() -> typer.Typer:
    """The full command tree (tests use this with typer.testing.CliRunner)."""
    for module_name in AREA_CLI_MODULES:
        if module_name not in _registered:
            importlib.import_module(module_name).register(app)
            _registered.append(module_name)
    return app


def main() -> None:
    build_app()()


if __name__ == "__main__":  # pragma: no cover
    main()
