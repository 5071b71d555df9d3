"""`mesoclinic demo`: create the demo clinic in an empty database."""

from __future__ import annotations

import typer
from rich.console import Console

from mesoclinic.demo.seed import ensure_demo, print_welcome
from mesoclinic.migrate import open_database


def demo() -> None:
    """Create the demo clinic (staff, ~30 patients and their records) if the database is empty."""
    settings, factory = open_database()
    console = Console()
    created = ensure_demo(factory, settings)
    if not created:
        console.print("The database already has users; the demo clinic was not added.")
        raise typer.Exit(1)
    print_welcome(console, settings.public_url, created)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
