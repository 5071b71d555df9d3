"""What every analytics route, page and command needs before it asks anything: the measurement
kinds and the responder rules the clinic configured (one function, so the four API routes,
the pages and the CLI read them alike)."""

from __future__ import annotations

from typing import TypedDict

from mesoclinic.config import Settings
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.responders import ResponderBook, load_responder_rules


class Rulebooks(TypedDict):
    """Keyword arguments of the analytics services (`**rulebooks(settings)`)."""

    kinds: KindBook
    responders: ResponderBook


def rulebooks(settings: Settings) -> Rulebooks:
    """The configured measurement kinds and responder rules."""
    return {
        "kinds": load_kinds(settings.measurement_kinds),
        "responders": load_responder_rules(settings.responder_rules),
    }
