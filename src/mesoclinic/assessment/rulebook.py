"""The candidacy and contraindication rulebook: versioned YAML data, validated on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mesoclinic.assessment.staging import DIAGNOSES, SCALE_GRADES, SCALES
from mesoclinic.findings import RulebookError, load_rulebook
from mesoclinic.patients.schemas import ConditionKind

DEFAULT_RULEBOOK_PATH = Path(__file__).with_name("rulebook.yaml")
Candidacy = Literal["recommended", "caution", "not_recommended"]
ContraSeverity = Literal["absolute", "relative"]
# The boolean facts a rule may test with `fact` / `fact_any` (names of PatientFacts fields).
BoolFact = Literal[
    "pregnant",
    "breastfeeding",
    "anticoagulants",
    "recent_bleeding_risk_supplements",
    "scalp_infection",
    "open_wound",
    "herpes_active",
    "may_become_pregnant",
]
Sex = Literal["female", "male", "other", "unknown"]
_ALL_GRADES = {g for grades in SCALE_GRADES.values() for g in grades}
# The condition kinds the medical history records.
CONDITION_KINDS: tuple[str, ...] = get_args(ConditionKind)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    """A rule's condition: every key given must hold (an empty condition never fires)."""

    fact: BoolFact | None = None
    fact_any: tuple[BoolFact, ...] | None = Field(default=None, min_length=1)
    diagnosis_in: tuple[str, ...] | None = Field(default=None, min_length=1)
    scale_in: tuple[str, ...] | None = Field(default=None, min_length=1)
    grade_in: tuple[str, ...] | None = Field(default=None, min_length=1)
    salt_at_least: float | None = Field(default=None, ge=0, le=100)
    sex_in: tuple[Sex, ...] | None = Field(default=None, min_length=1)
    condition_in: tuple[str, ...] | None = Field(default=None, min_length=1)
    drug_in: tuple[str, ...] | None = Field(default=None, min_length=1)
    allergy_to_cocktail: bool | None = None

    @field_validator("diagnosis_in")
    @classmethod
    def _known_diagnoses(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for item in value or ():
            if item not in DIAGNOSES:
                raise ValueError(f"unknown diagnosis {item!r}; use one of {', '.join(DIAGNOSES)}")
        return value

    @field_validator("scale_in")
    @classmethod
    def _known_scales(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for item in value or ():
            if item not in SCALES:
                raise ValueError(f"unknown scale {item!r}; use one of {', '.join(SCALES)}")
        return value

    @field_validator("grade_in")
    @classmethod
    def _known_grades(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for item in value or ():
            if item not in _ALL_GRADES:
                raise ValueError(f"unknown grade {item!r} (not on any staging scale)")
        return value

    @field_validator("condition_in")
    @classmethod
    def _known_conditions(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        # A misspelt kind would silently never fire, so it is refused.
        for item in value or ():
            if item not in CONDITION_KINDS:
                raise ValueError(
                    f"unknown condition kind {item!r}; use one of {', '.join(CONDITION_KINDS)}"
                )
        return value

    @field_validator("drug_in")
    @classmethod
    def _lower_case(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return tuple(v.strip().lower() for v in value) if value is not None else None

    @model_validator(mode="after")
    def _not_empty(self) -> When:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one key")
        return self


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    reason: str = Field(min_length=5)
    source: str = Field(min_length=3)
    when: When


class CandidacyRule(Rule):
    outcome: Candidacy


class ContraindicationRule(Rule):
    severity: ContraSeverity


class Fallback(_Strict):
    """The candidacy given when no candidacy rule matches (e.g. stage not recorded)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    outcome: Candidacy
    reason: str = Field(min_length=5)
    source: str = Field(min_length=3)


class Escalation(_Strict):
    """The candidacy a contraindication of each severity raises the decision to, at least."""

    relative: Candidacy = "caution"
    absolute: Candidacy = "not_recommended"


class Rulebook(_Strict):
    """A clinic's candidacy and contraindication rules, with a version stored on each decision."""

    version: str = Field(min_length=1)
    title: str = "Mesotherapy candidacy and contraindications"
    fallback: Fallback
    escalation: Escalation = Escalation()
    candidacy: tuple[CandidacyRule, ...] = Field(min_length=1)
    contraindications: tuple[ContraindicationRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rulebook:
        seen = {self.fallback.id}
        for rule in (*self.candidacy, *self.contraindications):
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return self

    def rule(self, rule_id: str) -> CandidacyRule | ContraindicationRule | Fallback | None:
        """The rule with this id, or None."""
        if rule_id == self.fallback.id:
            return self.fallback
        rules: tuple[CandidacyRule | ContraindicationRule, ...] = (
            *self.candidacy,
            *self.contraindications,
        )
        return next((r for r in rules if r.id == rule_id), None)


def load_rulebook_file(path: Path) -> Rulebook:
    """Load and validate a rulebook file; RulebookError names the bad rule."""
    return load_rulebook(path, Rulebook)


@lru_cache(maxsize=1)
def load_default_rulebook() -> Rulebook:
    """The rulebook shipped with mesoclinic."""
    return load_rulebook_file(DEFAULT_RULEBOOK_PATH)


_cache: dict[tuple[str, float], Rulebook] = {}


def get_rulebook(path: Path | None = None) -> Rulebook:
    """The clinic's rulebook (Settings.rulebook) or the shipped one; reloaded when it changes."""
    if path is None:
        return load_default_rulebook()
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError as exc:
        raise RulebookError(f"{path}: cannot read: {exc.strerror}") from exc
    if key not in _cache:
        _cache.clear()
        _cache[key] = load_rulebook_file(path)
    return _cache[key]
