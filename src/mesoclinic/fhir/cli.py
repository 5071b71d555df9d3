"""`mesoclinic export fhir PATIENT_ID --out FILE.json`: the patient's whole record as the
FHIR Bundle `GET /fhir/Patient/{id}/$everything` answers, written to a file and audited."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer

from mesoclinic.command import console, fail, open_database
from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.fhir.bundles import everything_bundle
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.security import audit
from mesoclinic.security.actor import cli_actor

export_app = typer.Typer(help="Export records in standard formats.", no_args_is_help=True)


@export_app.command("fhir")
def export_fhir(
    patient_id: Annotated[str, typer.Argument(help="the patient's id", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="the JSON file to write", show_default=False)],
) -> None:
    """Write one patient's record as a FHIR R4 Bundle (the same as $everything)."""
    from mesoclinic.fhir import service as fhir_service

    try:
        pid = uuid.UUID(patient_id)
    except ValueError as error:
        raise fail(f"not a patient id: {patient_id!r}", code=2) from error
    settings, factory = open_database()
    path = out.expanduser()
    try:
        with unit_of_work(factory) as session:
            actor = cli_actor()
            book = load_kinds(settings.measurement_kinds)
            resources = fhir_service.everything(session, actor, pid, book)
            bundle = everything_bundle(resources, f"{settings.public_url.rstrip('/')}/fhir")
            audit.record(
                session,
                actor,
                "export",
                "patient",
                pid,
                patient_id=pid,
                detail={"format": "fhir", "resources": len(resources), "file": str(path)},
            )
            path.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n")
    except DomainError as error:
        raise fail(error.message) from error
    except OSError as error:
        raise fail(f"cannot write {path}: {error}") from error
    console.print(f"wrote {path} ({len(resources)} resources)")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
