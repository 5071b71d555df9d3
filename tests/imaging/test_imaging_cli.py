"""`mesoclinic analyze` through Typer's CliRunner on an app built with register()."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import typer
from numpy.typing import NDArray
from PIL import Image
from typer.testing import CliRunner

from mesoclinic.imaging.cli import register
from mesoclinic.imaging.synthetic import SyntheticHair

MakeImage = Callable[..., NDArray[np.uint8]]
FIELDS = {
    "image",
    "hair_count",
    "hairs",
    "density_per_cm2",
    "terminal_count",
    "vellus_count",
    "mean_diameter_um",
    "follicular_units",
    "quality",
    "algorithm_version",
}


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)

    @application.command("version")
    def version() -> None:  # a second command keeps Typer in multi-command mode
        """Unused."""

    return application


@pytest.fixture
def scalp_jpeg(tmp_path: Path, synthetic_hairs: list[SyntheticHair], make_image: MakeImage) -> Path:
    path = tmp_path / "scalp.jpg"
    Image.fromarray(make_image(synthetic_hairs)).save(path, quality=92)
    return path


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_json_output_has_one_object_per_image_with_all_fields(
    app: typer.Typer, scalp_jpeg: Path
) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), str(scalp_jpeg), "--json"])
    assert result.exit_code == 0, result.output
    records = _json_lines(result.stdout)
    assert len(records) == 2
    for record in records:
        assert FIELDS <= record.keys()
        assert record["hair_count"] == 8
        hair = record["hairs"][0]  # type: ignore[index]
        assert {"x", "y", "angle_deg", "length_px", "width_px"} <= hair.keys()
        assert record["density_per_cm2"] is None


def test_px_per_mm_gives_density_and_terminal_split(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), "--json", "--px-per-mm", "280"])
    record = _json_lines(result.stdout)[0]
    assert record["density_per_cm2"] is not None and record["density_assumed"] is False
    assert record["terminal_count"] == 8


def test_profile_marks_density_as_assumed(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), "--json", "--profile", "fdu-70x"])
    record = _json_lines(result.stdout)[0]
    assert record["density_assumed"] is True and record["density_per_cm2"] is not None


def test_roi_limits_the_analysis(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(
        app, ["analyze", str(scalp_jpeg), "--json", "--roi", "0,0,1280,480"]
    )
    assert _json_lines(result.stdout)[0]["hair_count"] == 4


def test_table_output_without_json(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg)])
    assert result.exit_code == 0
    assert "hairs" in result.stdout and "8" in result.stdout


def test_overlay_png_is_written(app: typer.Typer, scalp_jpeg: Path, tmp_path: Path) -> None:
    folder = tmp_path / "overlays"
    result = CliRunner().invoke(
        app, ["analyze", str(scalp_jpeg), "--json", "--overlay", str(folder)]
    )
    assert result.exit_code == 0
    written = folder / "scalp.overlay.png"
    assert written.exists()
    with Image.open(written) as image:
        assert image.format == "PNG" and image.size == (640, 512)


def test_truncated_jpeg_gives_error_line_and_nonzero_exit(
    app: typer.Typer, scalp_jpeg: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(scalp_jpeg.read_bytes()[:4000])
    result = CliRunner().invoke(app, ["analyze", str(cut), str(scalp_jpeg), "--json"])
    assert result.exit_code == 1
    records = _json_lines(result.stdout)
    assert "truncated" in str(records[0]["error"])
    assert records[1]["hair_count"] == 8  # the rest of the batch still ran
    assert f"error: {cut}" in result.stderr


def test_non_image_file_gives_error_line_and_nonzero_exit(
    app: typer.Typer, scalp_jpeg: Path, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), str(text)])
    assert result.exit_code == 1
    assert "not a readable image" in result.stderr
    assert "error" in result.stdout  # the table shows the failed row too


def test_decompression_bomb_gives_error_line_and_nonzero_exit(
    app: typer.Typer, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(bomb, optimize=True)
    result = CliRunner().invoke(app, ["analyze", str(bomb), "--json"])
    assert result.exit_code == 1
    assert "too large" in str(_json_lines(result.stdout)[0]["error"])


def test_missing_file_gives_error_line_and_nonzero_exit(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "gone.jpg"), "--json"])
    assert result.exit_code == 1
    assert "cannot read file" in str(_json_lines(result.stdout)[0]["error"])


@pytest.mark.parametrize("roi", ["1,2,3", "10,10,5,20", "a,b,c,d"])
def test_malformed_roi_is_a_usage_error(app: typer.Typer, scalp_jpeg: Path, roi: str) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), "--roi", roi])
    assert result.exit_code == 2


def test_unknown_profile_is_a_usage_error(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), "--profile", "nope"])
    assert result.exit_code == 2


def test_detector_option_picks_the_exit_point_detector(app: typer.Typer, scalp_jpeg: Path) -> None:
    versions = {}
    for detector in ("cnn", "mlp"):
        result = CliRunner().invoke(
            app, ["analyze", str(scalp_jpeg), "--json", "--detector", detector]
        )
        assert result.exit_code == 0, result.output
        (record,) = _json_lines(result.output)
        versions[detector] = record["algorithm_version"]
    assert "exit-cnn" in str(versions["cnn"]) and "exit-mlp" in str(versions["mlp"])


def test_unknown_detector_is_a_usage_error(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), "--detector", "yolo"])
    assert result.exit_code == 2
    assert "--detector" in result.output


def test_jobs_give_the_same_lines_in_input_order_as_one_job(
    app: typer.Typer,
    scalp_jpeg: Path,
    tmp_path: Path,
    synthetic_hairs: list[SyntheticHair],
    make_image: MakeImage,
) -> None:
    fewer = tmp_path / "fewer.png"
    Image.fromarray(make_image(synthetic_hairs[:5])).save(fewer)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(scalp_jpeg.read_bytes()[:4000])
    files = [str(fewer), str(cut), str(scalp_jpeg), str(fewer)]
    one = CliRunner().invoke(app, ["analyze", *files, "--json", "--jobs", "1"])
    two = CliRunner().invoke(app, ["analyze", *files, "--json", "--jobs", "2"])
    assert (one.exit_code, two.exit_code) == (1, 1)
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr
    records = _json_lines(two.stdout)
    assert [r["image"] for r in records] == files
    assert [r.get("hair_count") for r in records] == [5, None, 8, 5]
    assert two.stderr.count("error: ") == 1


def test_jobs_below_one_is_a_usage_error(app: typer.Typer, scalp_jpeg: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(scalp_jpeg), "--jobs", "0"])
    assert result.exit_code == 2
