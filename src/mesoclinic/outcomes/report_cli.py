"""`mesoclinic report PATIENT_ID --out FILE.pdf [--html FILE]`: the patient's progress report,
the same one the Progress tab offers, written to files and audited like a download.

The report module draws charts with Matplotlib and prints with WeasyPrint, which together take
seconds to load; it is imported when the command runs so `mesoclinic --help` stays quick.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from mesoclinic.command import console, fail, open_database
from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.security.actor import cli_actor


def report_command(
    patient_id: Annotated[str, typer.Argument(help="the patient's id", show_default=False)],
    out: Annotated[
        Path | None, typer.Option("--out", help="write the report as PDF to this file")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="write the report as HTML to this file")
    ] = None,
) -> None:
    """Write a patient's progress report (measures, charts, before/after) as PDF and/or HTML."""
    if out is None and html is None:
        raise fail("name a file: --out FILE.pdf and/or --html FILE", code=2)
    try:
        pid = uuid.UUID(patient_id)
    except ValueError as error:
        raise fail(f"not a patient id: {patient_id!r}", code=2) from error
    from mesoclinic.outcomes import report  # Matplotlib and WeasyPrint: only when run

    settings, factory = open_database()
    written: list[Path] = []
    try:
        with unit_of_work(factory) as session:
            actor = cli_actor()
            progress = report.load_progress(session, actor, pid, settings)
            # Printed context either way: pictures inlined, so the files stand on their own.
            ctx = report.context(session, actor, progress, settings, for_print=True)
            outputs: list[tuple[Path, bytes, str]] = []
            if out is not None:
                outputs.append((out.expanduser(), report.render_pdf(ctx), "pdf"))
            if html is not None:
                outputs.append((html.expanduser(), report.render_html(ctx).encode(), "html"))
            for path, data, fmt in outputs:
                report.audit_report(session, actor, progress, fmt)
                path.write_bytes(data)
                written.append(path)
    except DomainError as error:
        raise fail(error.message) from error
    except OSError as error:
        for path in written:  # the audit was rolled back: leave no unaudited copy behind
            path.unlink(missing_ok=True)
        raise fail(f"cannot write the report: {error}") from error
    for path in written:
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
