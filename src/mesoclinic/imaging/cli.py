"""`mesoclinic analyze`: trichoscopy images in, one result per image out (JSON lines or a table)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mesoclinic.imaging.profiles import ProfileError, get_profile
from mesoclinic.imaging.results import DEFAULT_DETECTOR, DETECTORS, Roi


def parse_roi(text: str | None) -> Roi | None:
    """'X0,Y0,X1,Y1' in source pixels, x1 > x0 and y1 > y0."""
    if text is None:
        return None
    try:
        x0, y0, x1, y1 = (int(part) for part in text.split(","))
    except ValueError as error:
        raise typer.BadParameter(
            "expected four integers X0,Y0,X1,Y1", param_hint="--roi"
        ) from error
    if x1 <= x0 or y1 <= y0 or x0 < 0 or y0 < 0:
        raise typer.BadParameter("need 0 <= X0 < X1 and 0 <= Y0 < Y1", param_hint="--roi")
    return Roi(x0, y0, x1, y1)


def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Trichoscopy image files.")],
    px_per_mm: Annotated[
        float | None, typer.Option("--px-per-mm", min=0.001, help="Calibration: pixels per mm.")
    ] = None,
    roi: Annotated[
        str | None, typer.Option("--roi", help="Region of interest X0,Y0,X1,Y1 in pixels.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Device profile name, e.g. fdu-70x.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    overlay: Annotated[
        Path | None, typer.Option("--overlay", help="Write PNG overlays into this folder.")
    ] = None,
    detector: Annotated[
        str,
        typer.Option(
            "--detector",
            help=f"Exit-point detector: {' or '.join(DETECTORS)} (docs/imaging.md).",
        ),
    ] = DEFAULT_DETECTOR,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Images analysed at once, one process each (default: the cores available).",
        ),
    ] = None,
) -> None:
    """Count and measure hairs on trichoscopy images."""
    # NumPy, SciPy, Pillow and the detector models load here, not when the CLI starts.
    from mesoclinic.imaging import batch

    try:
        device = get_profile(profile) if profile else None
    except ProfileError as error:
        raise typer.BadParameter(str(error), param_hint="--profile") from error
    if detector not in DETECTORS:
        raise typer.BadParameter(f"expected one of {', '.join(DETECTORS)}", param_hint="--detector")
    settings = batch.BatchSettings(px_per_mm, parse_roi(roi), device, overlay, detector)
    # Piped output has no terminal width: give the table room instead of Rich's 80 columns.
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 110)
    err = Console(stderr=True, highlight=False)
    records: list[dict[str, Any]] = []
    failures = 0
    with _progress(err, len(paths)) as progress:
        task = progress.add_task("analysing", total=len(paths))
        for outcome in batch.analyze_all(paths, settings, jobs or batch.cores_available()):
            if outcome.error is not None:
                failures += 1
                err.print(f"error: {outcome.path}: {outcome.error}", markup=False, soft_wrap=True)
            if json_output:
                typer.echo(json.dumps(outcome.record))  # one unwrapped line per image
            records.append(outcome.record)
            progress.advance(task)
    if not json_output:
        out.print(_table(records))
    if failures:
        raise typer.Exit(code=1)


def _progress(console: Console, total: int) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=total < 2,
    )


def _table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Trichoscopy analysis", caption="density marked * is from an assumed px/mm")
    for column in (
        "image",
        "hairs",
        "per cm2",
        "terminal",
        "vellus",
        "mean um",
        "units 1/2/3+",
        "quality",
    ):
        table.add_column(column)
    for record in records:
        if "error" in record:
            table.add_row(Path(record["image"]).name, "error", record["error"], "", "", "", "", "")
            continue
        density = record["density_per_cm2"]
        units = record["follicular_units"]
        quality = record["quality"]
        table.add_row(
            Path(record["image"]).name,
            str(record["hair_count"]),
            "-"
            if density is None
            else f"{density:.0f}" + ("*" if record["density_assumed"] else ""),
            _dash(record["terminal_count"]),
            _dash(record["vellus_count"]),
            _dash(record["mean_diameter_um"]),
            f"{units['1']}/{units['2']}/{units['3+']}",
            "ok" if quality["usable"] else ", ".join(quality["flags"]),
        )
    return table


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def register(app: typer.Typer) -> None:
    """Add the `analyze` command to the root mesoclinic CLI."""
    app.command("analyze")(analyze)
