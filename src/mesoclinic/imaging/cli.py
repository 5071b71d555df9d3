"""`mesoclinic analyze`: trichoscopy images in, one result per image out (JSON lines or a table)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mesoclinic.imaging.analysis import (
    DEFAULT_DETECTOR,
    DETECTORS,
    AnalysisParams,
    Detector,
    analyze_image,
)
from mesoclinic.imaging.loading import ImageLoadError, load_image
from mesoclinic.imaging.overlay import save_overlay
from mesoclinic.imaging.profiles import DeviceProfile, ProfileError, get_profile
from mesoclinic.imaging.results import Calibration, Roi


@dataclass(frozen=True)
class Settings:
    """What the command line asked for, validated once for the whole batch."""

    px_per_mm: float | None
    roi: Roi | None
    profile: DeviceProfile | None
    overlay: Path | None
    detector: Detector = DEFAULT_DETECTOR

    def calibration(self, source_width: int) -> Calibration | None:
        """An explicit --px-per-mm wins over the profile's (assumed) field of view."""
        if self.px_per_mm is not None:
            return Calibration(self.px_per_mm, assumed=False, source="--px-per-mm")
        if self.profile is not None:
            return self.profile.calibration_for(source_width)
        return None

    def region(self, source_width: int, source_height: int) -> Roi | None:
        """An explicit --roi wins over the profile's overlay exclusions."""
        if self.roi is not None:
            return self.roi
        if self.profile is not None:
            return self.profile.roi_for(source_width, source_height)
        return None


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


def analyze_path(path: Path, settings: Settings) -> dict[str, Any]:
    """Analyse one file; raises ImageLoadError for files that cannot be decoded."""
    loaded = load_image(path)
    roi = settings.region(loaded.source_width, loaded.source_height)
    calibration = settings.calibration(loaded.source_width)
    result = analyze_image(
        loaded.pixels,
        calibration,
        roi,
        source_scale=loaded.source_scale,
        params=AnalysisParams(detector=settings.detector),
    )
    record = result.to_dict(image=str(path))
    if settings.overlay is not None:
        written = save_overlay(
            settings.overlay, path, loaded.pixels, result, loaded.source_scale, roi
        )
        record["overlay"] = str(written)
    return record


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
) -> None:
    """Count and measure hairs on trichoscopy images."""
    try:
        device = get_profile(profile) if profile else None
    except ProfileError as error:
        raise typer.BadParameter(str(error), param_hint="--profile") from error
    if detector not in DETECTORS:
        raise typer.BadParameter(f"expected one of {', '.join(DETECTORS)}", param_hint="--detector")
    settings = Settings(px_per_mm, parse_roi(roi), device, overlay, detector)
    # Piped output has no terminal width: give the table room instead of Rich's 80 columns.
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 110)
    err = Console(stderr=True, highlight=False)
    records: list[dict[str, Any]] = []
    failures = 0
    with _progress(err, len(paths)) as progress:
        task = progress.add_task("analysing", total=len(paths))
        for path in paths:
            try:
                record = analyze_path(path, settings)
            except ImageLoadError as error:
                failures += 1
                record = {"image": str(path), "error": str(error)}
                err.print(f"error: {path}: {error}", markup=False, soft_wrap=True)
            if json_output:
                typer.echo(json.dumps(record))  # one unwrapped line per image
            records.append(record)
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
