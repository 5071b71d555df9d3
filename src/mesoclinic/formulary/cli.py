"""`mesoclinic stock`: stock alerts and a lot's recall report from the command line."""

from __future__ import annotations

import uuid
from datetime import UTC
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.formulary import stock
from mesoclinic.formulary.models import Lot
from mesoclinic.formulary.recall_report import recipients_csv
from mesoclinic.migrate import open_database
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.service import clinic_timezone
from mesoclinic.visits.recipients import recipients_of_lot

stock_app = typer.Typer(help="Lots and stock.", no_args_is_help=True)


@stock_app.command("alerts")
def alerts() -> None:
    """List recalled, expired and expiring lots and products below threshold (all clinics)."""
    settings, factory = open_database()
    with unit_of_work(factory) as session:
        found = stock.alerts(
            session, cli_actor(), expiry_alert_days=settings.stock_expiry_alert_days
        )
    for alert in found:
        typer.echo(f"{alert.kind:10} {alert.message}")
    if not found:
        typer.echo("no stock alerts")


@stock_app.command("recipients")
def recipients(
    lot_id: Annotated[uuid.UUID, typer.Argument(help="the lot's id")],
    csv: Annotated[Path | None, typer.Option(help="write the report as CSV here")] = None,
) -> None:
    """Every patient and visit that received a lot (audited as an export)."""
    _, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            rows = recipients_of_lot(session, cli_actor(), lot_id)
            lot = session.get(Lot, lot_id)
            zone = ZoneInfo(clinic_timezone(session, lot.clinic_id)) if lot else UTC
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    if csv is not None:
        csv.write_text(recipients_csv(rows), encoding="utf-8")
        typer.echo(f"wrote {len(rows)} rows to {csv}")
        return
    for r in rows:
        typer.echo(
            f"{r.performed_at.astimezone(zone):%Y-%m-%d %H:%M %Z}  {r.record_number}  "
            f"{r.patient_name}  "
            f"{r.volume_ml:g} mL  {r.phone or ''}  {r.visit_status}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(stock_app, name="stock")
