"""What every command shares: a migrated database, a plain error exit, a password prompt."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic import migrate
from mesoclinic.config import Settings, get_settings
from mesoclinic.db import make_engine, make_sessionmaker

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print the error in plain words; raise the returned Exit for a non-zero status."""
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def open_database(settings: Settings | None = None) -> tuple[Settings, sessionmaker[Session]]:
    """Settings and a migrated session factory for a command."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    return settings, make_sessionmaker(engine)


def read_password(confirm: bool) -> str:
    """A password from stdin: prompted on a terminal, first line when piped."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    return sys.stdin.readline().rstrip("\r\n")
