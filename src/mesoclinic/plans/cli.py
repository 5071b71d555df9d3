"""`mesoclinic protocols`: check a clinic's protocol file and preview a plan's dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mesoclinic.errors import DomainError
from mesoclinic.findings import RulebookError
from mesoclinic.plans.protocols import load_protocols
from mesoclinic.plans.schedule import generate_sessions

protocols_app = typer.Typer(help="Treatment protocol templates.", no_args_is_help=True)


@protocols_app.command("check")
def check(path: Annotated[Path, typer.Argument(help="protocol YAML file")]) -> None:
    """Validate a protocol file; exits non-zero naming the bad protocol."""
    try:
        book = load_protocols(path)
    except RulebookError as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"{path}: version {book.version} is valid: {len(book.protocols)} protocols "
        f"({', '.join(p.code for p in book.protocols)})"
    )


@protocols_app.command("preview")
def preview(
    code: Annotated[str, typer.Argument(help="protocol code")],
    start: Annotated[str, typer.Option(help="first session, YYYY-MM-DD")] = "",
    path: Annotated[Path | None, typer.Option(help="a clinic's protocol file")] = None,
    open_days: Annotated[str, typer.Option(help="open weekdays, 0 = Monday")] = "0,1,2,3,4,5",
) -> None:
    """Print the dates a plan would get (no database; closures are not applied)."""
    try:
        protocol = load_protocols(path).get(code)
        first = date.fromisoformat(start) if start else date.today()
        days = frozenset(int(d) for d in open_days.split(",") if d.strip())
        sessions = generate_sessions(protocol, first, days, frozenset())
    except (RulebookError, DomainError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    table = Table(title=f"{protocol.name} ({protocol.source})")
    for column in ("#", "phase", "date", "window", "PRP"):
        table.add_column(column)
    for s in sessions:
        table.add_row(
            str(s.sequence),
            s.phase,
            f"{s.planned_date:%a %d %b %Y}",
            f"{s.window_start} .. {s.window_end}",
            "PRP" if s.includes_prp else "",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(protocols_app, name="protocols")
