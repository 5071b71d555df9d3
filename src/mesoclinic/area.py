"""What an area declares about itself: one `AREA = Area(...)` in its `area.py`.

The app, the CLI, the migrations' metadata, the navigation, the patient page's tabs, the dashboard
and the demo clinic all read these declarations through `mesoclinic.areas`; nothing registers itself
by being imported. Modules are named as strings so that reading a declaration imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mesoclinic.security.roles import Role


@dataclass(frozen=True)
class NavItem:
    """An entry of the top navigation, shown to roles holding the permission."""

    label: str
    href: str
    permission: str  # a permission (StrEnum member) the viewer must hold
    staff_only: bool = True


@dataclass(frozen=True)
class PatientTab:
    """A tab of the patient page; its route lives in the area's pages."""

    key: str
    label: str
    path: str  # appended to /patients/{id}
    permission: str  # a permission (StrEnum member) the viewer must hold


@dataclass(frozen=True)
class Area:
    """One domain area: its faces, its tables and its part of the demo clinic."""

    name: str
    routers: tuple[str, ...] = ()  # modules with a `router` (JSON API or HTML pages), in order
    cli: tuple[str, ...] = ()  # modules with `register(app: typer.Typer)`
    # The top-level commands those modules register, name -> the one-line help `mesoclinic
    # --help` lists: the command line imports `cli` only when one of these runs (issue 18).
    commands: Mapping[str, str] = field(default_factory=dict)
    models: str | None = None  # module of ORM tables
    nav: tuple[NavItem, ...] = ()
    patient_tabs: tuple[PatientTab, ...] = ()
    panels: tuple[str, ...] = ()  # "module:function" dashboard panel sources
    demo: str | None = None  # module with `add_demo_data(session, context)`
    # "module:function" passes of `mesoclinic worker`: (factory, settings) -> a printable report
    worker_tasks: tuple[str, ...] = ()
    # Who holds each of the area's permissions (admins hold every permission of every area).
    grants: Mapping[str, frozenset[Role]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if bool(self.cli) != bool(self.commands):
            raise ValueError(f"area {self.name}: `cli` modules and their `commands` go together")
