"""`mesoclinic protocols check|preview` for clinics editing their protocol file."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from mesoclinic.plans.protocols import DEFAULT_PROTOCOLS


def run(*args: str) -> Result:
    return CliRunner().invoke(build_app(), list(args))


def test_check_accepts_the_shipped_file_and_names_a_bad_protocol(tmp_path: Path) -> None:
    ok = run("protocols", "check", str(DEFAULT_PROTOCOLS))
    assert ok.exit_code == 0 and "5 protocols" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_PROTOCOLS.read_text().replace("sessions: 10", "sessions: 0"))
    refused = run("protocols", "check", str(bad))
    assert refused.exit_code == 1
    assert "minoxidil" in refused.output


def test_preview_prints_the_dates_of_a_plan() -> None:
    shown = run("protocols", "preview", "minoxidil", "--start", "2027-01-04")
    assert shown.exit_code == 0
    assert "Mon 04 Jan 2027" in shown.output and "Mon 08 Mar 2027" in shown.output
    assert run("protocols", "preview", "nope").exit_code == 1
