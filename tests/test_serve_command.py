"""`mesoclinic serve` options that do not need a running server."""

from __future__ import annotations

from typer.testing import CliRunner
from uvicorn.importer import import_from_string

from mesoclinic.app import create_worker_app
from mesoclinic.cli import WORKER_APP, build_app


def test_several_server_processes_load_the_app_factory_by_name() -> None:
    assert import_from_string(WORKER_APP) is create_worker_app


def test_the_demo_refuses_several_server_processes() -> None:
    result = CliRunner().invoke(build_app(), ["serve", "--demo", "--workers", "2"])
    assert result.exit_code == 1
    assert "leave out --workers" in result.stderr


def test_workers_below_one_is_a_usage_error() -> None:
    result = CliRunner().invoke(build_app(), ["serve", "--workers", "0"])
    assert result.exit_code == 2
