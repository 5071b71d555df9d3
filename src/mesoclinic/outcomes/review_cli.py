"""`mesoclinic corrections export DIR` and `mesoclinic images reanalyse`.

The imaging command is a single `analyze` command, not a Typer group, so the export lives in a
`corrections` group of its own. `images` is shared with the image-upload commands: whichever
module registers first creates the group and the other adds to it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from mesoclinic.command import console, fail, open_database
from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.imaging.results import ALGORITHM_VERSION, known_versions
from mesoclinic.outcomes import jobs
from mesoclinic.security.actor import cli_actor

corrections_app = typer.Typer(
    help="Clinicians' corrections of hair detection.", no_args_is_help=True
)


@corrections_app.command("export")
def export_corrections(
    directory: Annotated[Path, typer.Argument(help="folder for the images and VOC XML files")],
) -> None:
    """Write reviewed images plus PASCAL-VOC (exit and shaft point per hair) as training data.

    Only images whose patient's photo consent allows teaching use are written.
    """
    # NumPy, SciPy and Pillow load here, not whenever the CLI starts.
    from mesoclinic.outcomes import corrections

    settings, factory = open_database()
    with unit_of_work(factory) as session:
        report = corrections.export(
            session, cli_actor(), settings.images_dir, directory.expanduser()
        )
    console.print(
        f"wrote {report.written} reviewed images ({report.hairs} hairs) to {directory}; "
        f"{report.without_consent} left out without teaching consent"
    )


def reanalyse(
    image_ids: Annotated[
        list[str] | None, typer.Argument(help="image ids (or --all)", show_default=False)
    ] = None,
    all_images: Annotated[
        bool, typer.Option("--all", help="every active trichoscopy image")
    ] = False,
    version: Annotated[
        str,
        typer.Option("--version", help=f"algorithm version; known: {', '.join(known_versions())}"),
    ] = ALGORITHM_VERSION,
) -> None:
    """Queue a count of stored images with an algorithm version; old results stay beside it."""
    if all_images == bool(image_ids):
        raise fail("name image ids or --all (not both)", code=2)
    try:
        ids = None if all_images else [uuid.UUID(text) for text in image_ids or []]
    except ValueError as error:
        raise fail(f"not an image id: {error}", code=2) from error
    _settings, factory = open_database()
    try:
        with unit_of_work(factory) as session:
            queued = jobs.reanalyse(session, cli_actor(), ids, version)
            new = sum(1 for job in queued if job.attempts == 0 and job.status == "queued")
    except DomainError as error:
        raise fail(error.message) from error
    console.print(f"{len(queued)} images: {new} jobs queued for {version} (run mesoclinic worker)")


def _images_group(app: typer.Typer) -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "images" and group.typer_instance is not None:
            return group.typer_instance
    images_app = typer.Typer(help="Clinical images.", no_args_is_help=True)
    app.add_typer(images_app, name="images")
    return images_app


def register(app: typer.Typer) -> None:
    app.add_typer(corrections_app, name="corrections")
    _images_group(app).command("reanalyse")(reanalyse)
