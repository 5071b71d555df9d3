"""A dashboard panel: what an area's panel source (session, actor) -> Panel | None returns.

Areas name their panel sources in their `area.py`; the dashboard lists them in area order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from mesoclinic.security.actor import Actor


@dataclass(frozen=True)
class Panel:
    title: str
    lines: list[tuple[str, str | None]] = field(default_factory=list)  # (text, link or None)
    tone: str = ""  # "", "warn" or "bad"
    more: tuple[str, str] | None = None  # (text, link) to the whole list when lines are capped


PanelSource = Callable[[Session, Actor], Panel | None]
