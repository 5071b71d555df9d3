"""`mesoclinic --help` loads no heavy library: the command line starts quickly (issue 18).

Each command is its own process, so what `--help` imports is what every command pays before
doing anything. The root command lists the commands each area declares (name and one-line help in
its `area.py`) and imports an area's command modules only when one of its commands runs; the
heavy parts (web framework, ORM, image analysis, charts, PDF, statistics, migrations) are imported
by the commands and pages that use them. Timings are printed by bench/startup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer.main import get_command
from typer.testing import CliRunner

from mesoclinic import areas, migrate
from mesoclinic.cli import CORE_COMMANDS, build_app
from mesoclinic.db import make_engine

HEAVY = (
    "numpy",
    "scipy",
    "PIL",
    "skimage",
    "cv2",
    "onnxruntime",
    "matplotlib",
    "weasyprint",
    "statsmodels",
    "alembic",
    "mako",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "jinja2",
    "argon2",
    "zxcvbn",
    "yaml",
    "fhir",
    "mesoclinic.config",
    "mesoclinic.db",
    "mesoclinic.migrate",
    "mesoclinic.models_registry",
    "mesoclinic.imaging.analysis",
    "mesoclinic.outcomes.analysis",
    "mesoclinic.outcomes.charts",
)

PROBE = """
import json, sys
from mesoclinic.cli import build_app
try:
    build_app()(ARGS, prog_name="mesoclinic")
except SystemExit as done:
    assert done.code == 0, done.code
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {NAMES} or m in {NAMES}),
    "commands": sorted(m for m in sys.modules if m.endswith("cli") or m == "mesoclinic.backup"),
}))
"""


def _probe(args: list[str], before: str = "") -> tuple[dict[str, list[str]], str]:
    probe = PROBE.replace("{NAMES}", repr(set(HEAVY))).replace("ARGS", repr(args))
    probe = probe.replace(
        "from mesoclinic.cli import build_app", before + "\nfrom mesoclinic.cli import build_app"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


def test_help_imports_no_heavy_library_and_no_command_module() -> None:
    found, output = _probe(["--help"])
    assert found["loaded"] == []
    # Only the root module itself: no area's command module is imported to list its commands.
    assert found["commands"] == ["mesoclinic.cli"]
    assert "Usage: mesoclinic" in output
    for name in ["serve", "db", "backup", "demo", "rules", "analyze", "analytics", "export"]:
        assert name in output, name


def test_a_commands_help_loads_its_own_module_only() -> None:
    found, output = _probe(["rules", "--help"])
    assert "mesoclinic.assessment.cli" in found["commands"]
    assert "mesoclinic.imaging.cli" not in found["commands"]
    assert "numpy" not in found["loaded"] and "matplotlib" not in found["loaded"]
    # The full help of the group: its own commands, loaded on demand.
    assert "Usage: mesoclinic rules" in output
    assert "check" in output and "docs" in output


def test_the_probe_sees_a_heavy_import_when_there_is_one() -> None:
    found, _ = _probe(["--help"], before="import numpy")
    assert "numpy" in found["loaded"]


def _declarations() -> list[tuple[tuple[str, ...], dict[str, str]]]:
    declared = [(modules, dict(commands)) for modules, commands in CORE_COMMANDS]
    declared += [(a.cli, dict(a.commands)) for a in areas.all_areas() if a.cli]
    return declared


@pytest.mark.parametrize(
    ("modules", "commands"),
    _declarations(),
    ids=lambda v: ",".join(v) if isinstance(v, tuple) else "",
)
def test_declared_commands_are_the_ones_their_modules_register(
    modules: tuple[str, ...], commands: dict[str, str]
) -> None:
    scratch = typer.Typer()
    for module in modules:
        __import__(module, fromlist=["register"]).register(scratch)
    registered = typer.main.get_group(scratch)  # a group even for a single command
    assert set(registered.commands) == set(commands)
    for name, help_line in commands.items():
        # `mesoclinic --help` shows the declared line: it must be the command's own.
        assert registered.commands[name].get_short_help_str(limit=500) == help_line, name


def test_every_listed_command_runs_its_real_help() -> None:
    root = get_command(build_app())
    runner = CliRunner()
    for name in root.list_commands(typer.Context(root)):  # type: ignore[attr-defined]
        result = runner.invoke(build_app(), [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert (
            f"Usage: mesoclinic {name}" in result.output or f"Usage: root {name}" in result.output
        )


def test_an_unknown_command_fails_and_suggests_a_declared_one() -> None:
    result = CliRunner().invoke(build_app(), ["rulez"])
    assert result.exit_code != 0
    assert "rules" in result.output


def test_an_area_declaring_cli_modules_must_name_their_commands() -> None:
    from mesoclinic.area import Area

    with pytest.raises(ValueError, match="go together"):
        Area(name="bad", cli=("mesoclinic.imaging.cli",))


ROUTER_PROBE = """
import json, sys
from mesoclinic import areas, migrate
for module in areas.router_modules():
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {NAMES} or m in {NAMES})))
"""
# What a job or an analytics request needs, not what `serve` needs to answer its first request.
NOT_FOR_SERVE = (
    "scipy.stats",
    "statsmodels",
    "pandas",
    "skimage",
    "onnxruntime",
    "mesoclinic.imaging.analysis",
    "mesoclinic.imaging.growth",
    "matplotlib",
    "weasyprint",
    # Made lazy for issue 18 item 6 (`serve` ready in < 1.5 s of CPU): each loads with the first
    # request that needs it (an image, a calendar, a comparison, a FHIR resource, a password).
    "numpy",
    "PIL",
    "icalendar",
    "zxcvbn",
    "fhir.resources",
    "alembic",
    "mesoclinic.imaging.overlay",
    "mesoclinic.analytics.compare",
    "mesoclinic.analytics.mixed",
)


def test_serve_loads_every_router_without_the_statistics_and_detector_libraries() -> None:
    probe = ROUTER_PROBE.replace("{NAMES}", repr(set(NOT_FOR_SERVE)))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


SERVE_PROBE = """
import json, sys
from starlette.testclient import TestClient
from mesoclinic.app import create_app
with TestClient(create_app()) as client:
    health = client.get("/healthz").json()
print(json.dumps({"schema": health["schema_version"], "loaded": sorted(
    m for m in sys.modules if m.split(".")[0] in {NAMES} or m in {NAMES})}))
"""


def test_serve_on_a_database_at_the_head_answers_without_alembic_or_the_heavy_libraries(
    tmp_path: Path,
) -> None:
    """The restart a clinic waits for: the schema check is one query (migrate.at_head), and
    /healthz reads the revision without Alembic either."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)  # the first start: creates and migrates the database
    engine.dispose()
    env = {**os.environ, "MESOCLINIC_DATABASE_URL": url, "MESOCLINIC_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_PROBE.replace("{NAMES}", repr(set(NOT_FOR_SERVE)))],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"schema": migrate.HEAD_REVISION, "loaded": []}


LOADING_PROBE = """
import gc
from mesoclinic import startup
with startup.loading():
    paused = not gc.isenabled()
    built = [[n] for n in range(1000)]
print(paused, gc.isenabled(), gc.get_freeze_count() >= 1000)
"""


def test_a_server_loads_its_app_with_the_collector_paused_then_frozen() -> None:
    """`serve` and each `--workers` process build the app inside `startup.loading()`: no cycle
    collection while it loads, what it built frozen afterwards, the collector back on."""
    done = subprocess.run(
        [sys.executable, "-c", LOADING_PROBE], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "True", "True"]
