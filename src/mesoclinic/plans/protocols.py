"""Protocol templates as data: the schema, and loading the packaged or the clinic's own file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mesoclinic.errors import InvalidInput
from mesoclinic.findings import load_rulebook, validate_rulebook

DEFAULT_PROTOCOLS = Path(__file__).with_name("protocols.yaml")


class Phase(BaseModel):
    """A run of sessions at one rhythm (induction, consolidation, maintenance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=40)
    sessions: int = Field(ge=1, le=52)
    interval_days: int = Field(ge=1, le=366)
    window_before: int = Field(default=0, ge=0)
    window_after: int = Field(default=0, ge=0, le=183)
    prp_sessions: tuple[int, ...] = ()
    week_offsets: tuple[int, ...] | None = None
    open_ended: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Phase:
        if self.window_before >= self.interval_days:
            raise ValueError(
                "window_before must be shorter than interval_days, or two sessions "
                "could fall on the same day"
            )
        if any(n < 1 or n > self.sessions for n in self.prp_sessions):
            raise ValueError(f"prp_sessions must be session numbers 1..{self.sessions}")
        if self.week_offsets is not None:
            offsets = self.week_offsets
            if len(offsets) != self.sessions or offsets[0] != 0:
                raise ValueError("week_offsets needs one offset per session, starting at 0")
            gaps = [7 * (b - a) for a, b in zip(offsets, offsets[1:], strict=False)]
            if any(g <= self.window_before for g in gaps):
                raise ValueError("week_offsets must increase by more than window_before days")
        return self

    def gaps(self) -> list[int]:
        """Nominal days before each session of the phase (the first uses interval_days)."""
        if self.week_offsets is None:
            return [self.interval_days] * self.sessions
        offsets = self.week_offsets
        return [self.interval_days] + [
            7 * (b - a) for a, b in zip(offsets, offsets[1:], strict=False)
        ]


class Protocol(BaseModel):
    """A protocol template: its phases in order and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default="", description="copied from code so errors name the protocol")
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$")
    name: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=400)
    procedure: Literal["mesotherapy", "prp"] = "mesotherapy"
    # The formulary cocktail the protocol gives, by name: planning checks allergies against it.
    cocktail: str | None = Field(default=None, min_length=1, max_length=120)
    phases: tuple[Phase, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _id_from_code(cls, data: object) -> object:
        if isinstance(data, dict) and "code" in data and "id" not in data:
            return {**data, "id": data["code"]}
        return data

    @property
    def session_count(self) -> int:
        return sum(p.sessions for p in self.phases)

    @property
    def includes_prp(self) -> bool:
        return any(p.prp_sessions for p in self.phases)


class ProtocolBook(BaseModel):
    """The whole protocol file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    protocols: tuple[Protocol, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> ProtocolBook:
        codes = [p.code for p in self.protocols]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"protocol codes must be unique: {', '.join(duplicates)}")
        return self

    def get(self, code: str) -> Protocol:
        """The protocol with this code, or InvalidInput naming the field."""
        for protocol in self.protocols:
            if protocol.code == code:
                return protocol
        raise InvalidInput(f"No protocol with code {code!r}", "protocol_code")


def load_protocols(path: Path | None = None) -> ProtocolBook:
    """The clinic's protocol file if configured, else the packaged defaults (validated)."""
    target = path or DEFAULT_PROTOCOLS
    return _load_cached(target.resolve(), target.stat().st_mtime_ns if target.exists() else 0)


@lru_cache(maxsize=8)
def _load_cached(path: Path, _mtime: int) -> ProtocolBook:
    # The modification time is part of the key so an edited file is re-read.
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return load_rulebook(path, ProtocolBook)  # raises the shared, named RulebookError
    # Errors name a rule by its `id`; a protocol is known by its code.
    for protocol in (raw.get("protocols") or []) if isinstance(raw, dict) else []:
        if isinstance(protocol, dict) and "code" in protocol:
            protocol.setdefault("id", protocol["code"])
    return validate_rulebook(raw, ProtocolBook, str(path))
