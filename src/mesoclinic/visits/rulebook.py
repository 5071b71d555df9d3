"""The clinic-editable dose, needle and precaution rulebook (YAML shipped with the package)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mesoclinic.findings import load_rulebook

DEFAULT_PATH = Path(__file__).with_name("rulebook.yaml")
LIMITED_FIELDS = (
    "depth_mm",
    "volume_per_point_ml",
    "total_volume_ml",
    "needle_gauge",
    "needle_length_mm",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Strict):
    """A range for one measured field: warn outside typical, refuse outside hard."""

    id: str = Field(min_length=1)
    label: str
    field: str
    unit: str
    typical_min: float
    typical_max: float
    hard_min: float | None = None
    hard_max: float | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Limit:
        if self.field not in LIMITED_FIELDS:
            raise ValueError(f"field must be one of {', '.join(LIMITED_FIELDS)}")
        if self.typical_min > self.typical_max:
            raise ValueError("typical_min is above typical_max")
        if self.hard_min is not None and self.hard_min > self.typical_min:
            raise ValueError("hard_min is above typical_min")
        if self.hard_max is not None and self.hard_max < self.typical_max:
            raise ValueError("hard_max is below typical_max")
        return self


class Precaution(_Strict):
    id: str = Field(min_length=1)
    label: str
    days_before: int = Field(ge=0, le=90)
    source: str = Field(min_length=1)


class VisitInterval(_Strict):
    """The least gap between two visits of a patient when no plan session gives one."""

    id: str = Field(min_length=1)
    min_days: int = Field(ge=1, le=365)
    refuse_below_days: int = Field(ge=1, le=365)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> VisitInterval:
        if self.refuse_below_days > self.min_days:
            raise ValueError("refuse_below_days is above min_days")
        return self


class VisitRulebook(_Strict):
    version: int
    limits: list[Limit]
    precautions: list[Precaution]
    interval: VisitInterval

    def precaution(self, rule_id: str) -> Precaution | None:
        return next((p for p in self.precautions if p.id == rule_id), None)


def load(path: Path) -> VisitRulebook:
    """Parse and validate a rulebook file (RulebookError names the bad rule)."""
    return load_rulebook(path, VisitRulebook)


@lru_cache(maxsize=4)
def _cached(path: str) -> VisitRulebook:
    return load(Path(path))


def get_visit_rulebook(path: Path | None = None) -> VisitRulebook:
    """The clinic's rulebook (Settings.visit_rulebook) or the shipped defaults, loaded once."""
    return _cached(str(path or DEFAULT_PATH))
