"""The one ordered list of areas. Adding an area = its folder with an `area.py` + one line here.

Order matters: routers are included, navigation and tabs shown, dashboard panels listed and demo
steps run in this order (a demo step may use what an earlier area's step created).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from functools import cache
from types import ModuleType
from typing import Any

from mesoclinic.area import Area, NavItem, PatientTab
from mesoclinic.security.roles import Role

AREA_PACKAGES: list[str] = [
    "mesoclinic.security",
    "mesoclinic.patients",
    "mesoclinic.assessment",
    "mesoclinic.formulary",
    "mesoclinic.plans",
    "mesoclinic.visits",
    "mesoclinic.aftercare",
    "mesoclinic.outcomes",
    "mesoclinic.imaging",
    "mesoclinic.fhir",
]


@cache
def _declaration(package: str) -> Area:
    area = importlib.import_module(f"{package}.area").AREA
    if not isinstance(area, Area):
        raise TypeError(f"{package}.area.AREA is not an Area")
    return area


def all_areas(packages: tuple[str, ...] | None = None) -> list[Area]:
    """Every declared area, in order (tests may pass their own list of packages)."""
    return [_declaration(p) for p in (packages or tuple(AREA_PACKAGES))]


def grants() -> dict[str, frozenset[Role]]:
    """Every area's permission grants: permission -> the roles (besides admin) that hold it."""
    return _grants(tuple(AREA_PACKAGES))


@cache
def _grants(packages: tuple[str, ...]) -> dict[str, frozenset[Role]]:
    merged: dict[str, frozenset[Role]] = {}
    for area in all_areas(packages):
        for permission, roles in area.grants.items():
            if permission in merged:
                raise ValueError(f"area {area.name} grants {permission!r}, granted elsewhere too")
            merged[str(permission)] = frozenset(roles)
    return merged


def _modules(names: Iterator[str]) -> Iterator[ModuleType]:
    for name in names:
        yield importlib.import_module(name)


def router_modules(areas: list[Area] | None = None) -> list[ModuleType]:
    return list(_modules(r for a in areas or all_areas() for r in a.routers))


def cli_modules(areas: list[Area] | None = None) -> list[ModuleType]:
    return list(_modules(c for a in areas or all_areas() for c in a.cli))


def load_models(areas: list[Area] | None = None) -> None:
    """Import every area's ORM tables so the shared metadata is complete."""
    for _module in _modules(a.models for a in areas or all_areas() if a.models):
        pass


def nav_items(areas: list[Area] | None = None) -> list[NavItem]:
    return [item for a in areas or all_areas() for item in a.nav]


def patient_tabs(areas: list[Area] | None = None) -> list[PatientTab]:
    return [tab for a in areas or all_areas() for tab in a.patient_tabs]


def _function(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise TypeError(f"{spec} is not callable")
    return function  # type: ignore[no-any-return]


def panel_sources(areas: list[Area] | None = None) -> list[Callable[..., Any]]:
    return [_function(p) for a in areas or all_areas() for p in a.panels]


def worker_tasks(areas: list[Area] | None = None) -> list[tuple[str, Callable[..., Any]]]:
    """(area name, task) for each pass `mesoclinic worker` makes, in area order."""
    return [(a.name, _function(t)) for a in areas or all_areas() for t in a.worker_tasks]


def demo_steps(areas: list[Area] | None = None) -> list[Callable[..., Any]]:
    return [_function(f"{a.demo}:add_demo_data") for a in areas or all_areas() if a.demo]
