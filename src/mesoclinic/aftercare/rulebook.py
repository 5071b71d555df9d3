"""The aftercare rulebook: which precautions apply, for how long, and what patients are told."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mesoclinic.findings import load_rulebook

DEFAULT_RULEBOOK = Path(__file__).with_name("rulebook.yaml")
EventKind = Literal["hair_colouring", "beach_holiday", "sauna", "other"]
EVENT_KINDS: tuple[str, ...] = ("hair_colouring", "beach_holiday", "sauna", "other")


class Duration(BaseModel):
    """A fixed length (hours or days) or "until HH:MM next morning, at least N hours"."""

    model_config = ConfigDict(extra="forbid")

    hours: int | None = Field(default=None, ge=1, le=24 * 60)
    days: int | None = Field(default=None, ge=1, le=60)
    until_local_time: time | None = None
    at_least_hours: int | None = Field(default=None, ge=0, le=72)

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Duration:
        given = [v for v in (self.hours, self.days, self.until_local_time) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of hours, days or until_local_time")
        if self.at_least_hours is not None and self.until_local_time is None:
            raise ValueError("at_least_hours only goes with until_local_time")
        return self


class Precaution(BaseModel):
    """One precaution of the rulebook."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=80)
    relation: Literal["before", "after", "around"]
    duration: Duration
    instruction: str = Field(min_length=1, max_length=1000)
    source: str = Field(min_length=1)
    conflicting_events: list[EventKind] = Field(default_factory=list)

    @model_validator(mode="after")
    def _clock_time_only_after(self) -> Precaution:
        if self.duration.until_local_time is not None and self.relation != "after":
            raise ValueError("until_local_time windows can only follow the session (after)")
        return self


class AftercareRulebook(BaseModel):
    """A versioned list of precautions with unique codes."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    precautions: list[Precaution] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> AftercareRulebook:
        codes = [p.code for p in self.precautions]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"precaution codes must be unique: {', '.join(duplicates)}")
        return self

    def by_code(self, code: str) -> Precaution | None:
        return next((p for p in self.precautions if p.code == code), None)


def load(path: Path | None = None) -> AftercareRulebook:
    """The clinic's rulebook (or the shipped default); parsed once per file version."""
    target = path or DEFAULT_RULEBOOK
    return _load_cached(target, target.stat().st_mtime_ns if target.exists() else 0)


@lru_cache(maxsize=8)
def _load_cached(path: Path, _mtime: int) -> AftercareRulebook:
    return load_rulebook(path, AftercareRulebook)
