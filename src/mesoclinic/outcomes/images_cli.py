"""`mesoclinic images`: import a folder of images for a patient; sweep orphaned files."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from sqlalchemy import select

from mesoclinic.command import console, fail, open_database
from mesoclinic.db import unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.outcomes.images_schemas import ImageCreate
from mesoclinic.outcomes.models import ImageBlob, ImageKind, PhotoView
from mesoclinic.security.actor import cli_actor

images_app = typer.Typer(help="Clinical images of patients.", no_args_is_help=True)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}


def _files(folder: Path) -> list[Path]:
    """The folder's image files by name (its own files only; hidden files skipped)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


@images_app.command("import")
def import_images(
    patient_id: Annotated[uuid.UUID, typer.Argument(help="the patient's id")],
    folder: Annotated[Path, typer.Argument(help="folder of JPEG, PNG or TIFF files")],
    kind: Annotated[ImageKind, typer.Option(help="trichoscopy or photo")] = ImageKind.TRICHOSCOPY,
    view: Annotated[PhotoView | None, typer.Option(help="view of clinical photos")] = None,
    site: Annotated[uuid.UUID | None, typer.Option(help="scalp site id")] = None,
    profile: Annotated[str | None, typer.Option(help="trichoscope profile, e.g. fdu-70x")] = None,
    username: Annotated[str, typer.Option(help="recorded as the uploader")] = "cli",
) -> None:
    """Store every image of FOLDER for the patient, one transaction per file.

    A bad file is reported and skipped; the others are stored. Exits 1 if any file failed.
    """
    if not folder.is_dir():
        raise fail(f"{folder} is not a folder")
    files = _files(folder)
    if not files:
        raise fail(f"{folder} holds no .jpg, .png or .tif files")
    try:
        data = ImageCreate(kind=kind, view=view, site_id=site, device_profile=profile)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    # Pillow and the analysis queue load here, not whenever the CLI starts.
    from mesoclinic.outcomes import flows

    settings, factory = open_database()
    actor = cli_actor(username)
    failed = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Importing", total=len(files))
        for path in files:
            try:
                with unit_of_work(factory) as session:
                    upload = flows.UploadedFile(path.name, path.read_bytes())
                    stored = flows.upload_images(
                        session, actor, patient_id, data, [upload], settings
                    )[0]
                note = "already stored" if stored.duplicate else "stored"
                if stored.image.kind is ImageKind.TRICHOSCOPY and not stored.duplicate:
                    note += ", count queued"
                progress.console.print(f"ok      {path.name}: {note} ({stored.image.id})")
            except (DomainError, OSError) as exc:
                failed += 1
                progress.console.print(f"[red]failed[/red]  {path.name}: {exc}")
            progress.advance(task)
    console.print(f"{len(files) - failed} of {len(files)} stored")
    if failed:
        raise typer.Exit(1)


@images_app.command("sweep")
def sweep(
    older_than_minutes: Annotated[int, typer.Option(min=5, help="minimum age of a file")] = 60,
    dry_run: Annotated[bool, typer.Option(help="list, do not remove")] = False,
) -> None:
    """Remove stored files that no image row refers to (left by a transaction that failed)."""
    from mesoclinic.outcomes import imagestore  # Pillow: see import_images

    settings, factory = open_database()
    with unit_of_work(factory) as session:
        known = set(session.execute(select(ImageBlob.sha256)).scalars())
    found = imagestore.orphans(settings.images_dir, known, older_than_minutes * 60)
    for path in found:
        if not dry_run:
            path.unlink(missing_ok=True)
        console.print(f"{'would remove' if dry_run else 'removed'} {path}")
    console.print(f"{len(found)} orphaned file{'s' if len(found) != 1 else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(images_app, name="images")
