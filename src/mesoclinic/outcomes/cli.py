"""`mesoclinic measurements add|list` and `mesoclinic sites list` from the command line."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError

from mesoclinic.command import fail, open_database
from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.outcomes import service, sites
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.schemas import MeasurementCreate, MeasurementRead
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.service import clinic_timezone

measurements_app = typer.Typer(help="A patient's measured results.", no_args_is_help=True)
sites_app = typer.Typer(help="A patient's marked scalp sites.", no_args_is_help=True)
# The schema's field names as the options a user typed, so errors name what they can fix.
OPTIONS = {
    "kind": "--kind",
    "value": "--value",
    "unit": "--unit",
    "site_id": "--site",
    "measured_at": "--at",
    "device_name": "--device",
    "rater": "--rater",
    "blinded": "--blinded",
    "visit_id": "--visit",
}


def _option(field: str | None) -> str:
    return OPTIONS.get(field or "", field or "input")


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"] if not isinstance(p, int)]
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{_option(loc[0] if loc else None)}: {message}"


def _at(value: str | None) -> datetime | str:
    return value if value else datetime.now(UTC)


@measurements_app.command("add")
def add(
    patient_id: Annotated[uuid.UUID, typer.Argument(help="the patient's id")],
    kind: Annotated[str, typer.Option(help="a kind code (see GET /api/v1/measurement-kinds)")],
    value: Annotated[float, typer.Option(help="the measured value")],
    unit: Annotated[str, typer.Option(help="its UCUM unit, e.g. /cm2 or {hairs}")],
    site: Annotated[uuid.UUID | None, typer.Option(help="the marked site's id")] = None,
    at: Annotated[str | None, typer.Option(help="when, ISO with a zone (default now)")] = None,
    device: Annotated[str | None, typer.Option(help="the device it was read from")] = None,
    rater: Annotated[str | None, typer.Option(help="who rated (photographic assessment)")] = None,
    blinded: Annotated[bool, typer.Option(help="the rater did not know the timepoint")] = False,
    by: Annotated[str, typer.Option(help="who is entering the value")] = "cli",
) -> None:
    """Record one measurement; bad input names the option and stores nothing."""
    settings, factory = open_database()
    body: dict[str, Any] = {
        "kind": kind,
        "value": value,
        "unit": unit,
        "site_id": site,
        "measured_at": _at(at),
        "device_name": device,
        "rater": rater,
        "blinded": blinded if rater else None,
    }
    try:
        data = MeasurementCreate.model_validate(body)
    except ValidationError as exc:
        raise fail(_validation_message(exc)) from exc
    try:
        with unit_of_work(factory) as session:
            book = load_kinds(settings.measurement_kinds)
            m = service.create(session, cli_actor(by), patient_id, data, book)
            typer.echo(f"recorded {m.kind} {m.value:g} {m.unit} ({m.source}) as {m.id}")
    except DomainError as exc:
        raise fail(f"{_option(exc.field)}: {exc.message}" if exc.field else exc.message) from exc


@measurements_app.command("list")
def list_measurements(
    patient_id: Annotated[uuid.UUID, typer.Argument(help="the patient's id")],
    kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """A patient's current measurements, newest first (audited as a read)."""
    settings, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            query = service.MeasurementQuery(kind=kind)
            patient = session.get(Patient, patient_id)
            zone = ZoneInfo(clinic_timezone(session, patient.clinic_id)) if patient else UTC
            book = load_kinds(settings.measurement_kinds)
            rows = [
                MeasurementRead.model_validate(m)
                for m in service.list_for(session, cli_actor(), patient_id, query, book)
            ]
    except DomainError as exc:
        raise fail(f"{_option(exc.field)}: {exc.message}" if exc.field else exc.message) from exc
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    for r in rows:
        where = f" site {r.site_id}" if r.site_id else ""
        when = r.measured_at.astimezone(zone)
        typer.echo(f"{when:%Y-%m-%d %H:%M %Z}  {r.kind:24} {r.value:g} {r.unit}{where}")
    if not rows:
        typer.echo("no measurements")


@sites_app.command("list")
def list_sites(patient_id: Annotated[uuid.UUID, typer.Argument(help="the patient's id")]) -> None:
    """A patient's marked scalp sites with their ids (for `measurements add --site`)."""
    _, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            found = [
                (s.id, s.label, s.clipped, s.status.value, s.description)
                for s in sites.list_for(session, cli_actor(), patient_id)
            ]
    except DomainError as exc:
        raise fail(exc.message) from exc
    for site_id, label, clipped, status, description in found:
        flags = ", ".join(f for f in ("clipped" if clipped else "", status) if f != "active" and f)
        typer.echo(f"{site_id}  {label}{f' ({flags})' if flags else ''}  {description}")
    if not found:
        typer.echo("no sites")


def register(app: typer.Typer) -> None:
    app.add_typer(measurements_app, name="measurements")
    app.add_typer(sites_app, name="sites")
