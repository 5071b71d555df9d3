"""Dashboard panels contributed by each area: a function (session, actor) -> panel or None."""

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


PanelSource = Callable[[Session, Actor], Panel | None]
PANELS: list[PanelSource] = []
