"""`mesoclinic demo`: create the demo clinic in an empty database."""

from __future__ import annotations

import typer
from rich.console import Console

from mesoclinic.config import get_settings


def demo() -> None:
    """Create the demo clinic (staff, ~30 patients and their records) if the database is empty."""
    from mesoclinic import migrate
    from mesoclinic.db import make_engine, make_sessionmaker
    from mesoclinic.demo.seed import ensure_demo, print_welcome

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    console = Console()
    created = ensure_demo(make_sessionmaker(engine), settings)
    if not created:
        console.print("The database already has users; the demo clinic was not added.")
        raise typer.Exit(1)
    print_welcome(console, settings.public_url, created)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
