"""What every command shares: a plain error exit and a password prompt (and, re-exported from
`migrate`, a migrated database)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from mesoclinic.config import Settings

__all__ = ["console", "err", "fail", "open_database", "read_password"]

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print the error in plain words; raise the returned Exit for a non-zero status."""
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def open_database(settings: Settings | None = None) -> tuple[Settings, sessionmaker[Session]]:
    """Settings and a migrated session factory (`migrate.open_database`, imported when a command
    runs: SQLAlchemy and the models are not loaded by `mesoclinic --help`)."""
    from mesoclinic import migrate

    return migrate.open_database(settings)


def read_password(confirm: bool) -> str:
    """A password from stdin: prompted on a terminal, first line when piped."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    return sys.stdin.readline().rstrip("\r\n")
