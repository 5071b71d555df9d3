"""Adding an area is one folder and one line: a throw-away area shows up everywhere it declares."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mesoclinic import areas
from mesoclinic.app import create_app
from mesoclinic.cli import build_app
from mesoclinic.security.permissions import Permission, Role, has_permission

TOY_FILES = {
    "__init__.py": "",
    "area.py": """
        from enum import StrEnum

        from mesoclinic.area import Area, NavItem, PatientTab
        from mesoclinic.security.roles import CLINICAL


        class ToyPermission(StrEnum):
            PLAY = "toy:play"


        AREA = Area(
            name="toy",
            routers=("toy_area.pages",),
            cli=("toy_area.cli",),
            commands={"toy": "Toy commands."},
            nav=(NavItem("Toy shelf", "/toy", ToyPermission.PLAY),),
            patient_tabs=(PatientTab("toy", "Toy tab", "/toy", ToyPermission.PLAY),),
            panels=("toy_area.pages:toy_panel",),
            grants={ToyPermission.PLAY: CLINICAL},
        )
    """,
    "pages.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from fastapi.responses import PlainTextResponse

        from mesoclinic.security.deps import require
        from mesoclinic.web.dashboard import Panel
        from toy_area.area import ToyPermission

        router = APIRouter()


        @router.get("/toy", response_class=PlainTextResponse)
        def toy(actor: Annotated[object, Depends(require(ToyPermission.PLAY))]) -> str:
            return "toy page"


        def toy_panel(session, actor):
            return Panel("Toy panel", [("one toy line", None)])
    """,
    "cli.py": """
        import typer

        toy_app = typer.Typer(help="Toy commands.")


        @toy_app.command("hello")
        def hello() -> None:
            typer.echo("hello from the toy area")


        def register(app: typer.Typer) -> None:
            app.add_typer(toy_app, name="toy")
    """,
}


@pytest.fixture
def toy_area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    package = tmp_path / "toy_area"
    package.mkdir()
    for name, text in TOY_FILES.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(areas, "AREA_PACKAGES", [*areas.AREA_PACKAGES, "toy_area"])
    return "toy_area"


@pytest.mark.committed  # an app of its own, with its own engine
def test_a_new_area_is_one_folder_and_one_line(toy_area, world, database, settings_for):
    app = create_app(settings_for(database.url), run_migrations=False)
    world.app = app
    web = world.web("clinician")
    assert web.get("/toy").text == "toy page"
    dashboard = web.get("/").text
    assert 'href="/toy">Toy shelf</a>' in dashboard
    assert "Toy panel" in dashboard and "one toy line" in dashboard
    patient_page = web.get(f"/patients/{world.patient_a.id}").text
    assert "Toy tab" in patient_page

    reception = world.web("reception")
    assert reception.get("/toy").status_code == 403
    assert "Toy shelf" not in reception.get("/").text

    result = CliRunner().invoke(build_app(), ["toy", "hello"])
    assert result.exit_code == 0, result.output
    assert "hello from the toy area" in result.output


def test_without_its_line_the_area_is_nowhere(tmp_path, world):
    web = world.web("clinician")
    assert web.get("/toy").status_code == 404
    assert "Toy shelf" not in web.get("/").text
    result = CliRunner().invoke(build_app(), ["toy", "hello"])
    assert result.exit_code != 0


def test_every_permission_is_granted_by_exactly_one_area():
    granted = areas.grants()
    assert set(Permission) <= set(granted), set(Permission) - set(granted)
    assert not has_permission(Role.RECEPTION, Permission.OUTCOME_READ)
    assert has_permission(Role.NURSE, Permission.VISIT_WRITE)
    assert has_permission(Role.ADMIN, "any:permission")


def test_every_declared_area_names_modules_that_exist():
    for area in areas.all_areas():
        assert areas.router_modules([area]) is not None
        for module in areas.router_modules([area]):
            assert hasattr(module, "router"), module.__name__
        for module in areas.cli_modules([area]):
            assert callable(module.register), module.__name__
    assert len(areas.panel_sources()) >= 4
    assert len(areas.demo_steps()) >= 5
