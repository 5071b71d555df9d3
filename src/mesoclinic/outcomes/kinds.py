"""The measurement-kinds rulebook (data, validated on load) and the pure check of one value."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mesoclinic.findings import load_rulebook

DEFAULT_KINDS = Path(__file__).with_name("kinds.yaml")


class MeasurementKind(BaseModel):
    """One kind of measurement: its UCUM unit, valid range and whether it needs a site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    label: str = Field(min_length=1, max_length=120)
    unit: str = Field(min_length=1, max_length=20)
    min: float
    max: float
    integer: bool = False
    site: Literal["required", "optional", "none"] = "optional"
    needs_rater: bool = False
    higher_is_better: bool | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _range_is_ordered(self) -> MeasurementKind:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class KindBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    kinds: tuple[MeasurementKind, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes_are_unique(self) -> KindBook:
        codes = [k.code for k in self.kinds]
        if len(codes) != len(set(codes)):
            raise ValueError("kind codes must be unique")
        return self

    def get(self, code: str) -> MeasurementKind | None:
        return next((k for k in self.kinds if k.code == code), None)


@cache
def load_kinds(path: Path | None = None) -> KindBook:
    """The clinic's kinds file, or the packaged one; cached per path (restart to reload)."""
    return load_rulebook(path or DEFAULT_KINDS, KindBook)


def check_measurement(
    kind: MeasurementKind,
    *,
    value: float,
    unit: str,
    has_site: bool,
    rater: str | None,
) -> list[tuple[str, str]]:
    """Problems with one value as (field, plain-words message); empty when it is valid."""
    problems: list[tuple[str, str]] = []
    if unit != kind.unit:
        problems.append(("unit", f"{kind.label} is recorded in {kind.unit}, not {unit}"))
    if value != value or value in (float("inf"), float("-inf")):
        problems.append(("value", "the value must be a finite number"))
    elif not kind.min <= value <= kind.max:
        problems.append(
            ("value", f"{kind.label} must be between {kind.min:g} and {kind.max:g} {kind.unit}")
        )
    elif kind.integer and value != int(value):
        problems.append(("value", f"{kind.label} is a whole number"))
    if kind.site == "required" and not has_site:
        problems.append(("site_id", f"{kind.label} must name the scalp site it was measured at"))
    if kind.site == "none" and has_site:
        problems.append(("site_id", f"{kind.label} is not measured at a scalp site"))
    if kind.needs_rater and not (rater or "").strip():
        problems.append(("rater", f"{kind.label} needs the rater's name"))
    return problems
