"""Responder status from measured values: the rulebook (data, validated on load) and its pure,
conservative evaluation. Every judgement names the rule that fired, why, and the rulebook's source.

Conservative means: a patient is called a non-responder only when the rule's time has come *and*
there is a baseline and a follow-up value late enough to judge by; otherwise the answer is "too
early" or "cannot be judged yet", with what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mesoclinic.findings import Finding, Severity, load_rulebook
from mesoclinic.outcomes.progress import ProgressPoint, Series, error_words, months_between

DEFAULT_RESPONDER_RULES = Path(__file__).with_name("responders.yaml")


class ResponderRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]{2,79}$")
    label: str = Field(min_length=1)
    kinds: tuple[str, ...] = Field(min_length=1)
    direction: Literal["up", "down"]
    threshold_percent: float = Field(gt=0, le=100)
    not_before_months: float = Field(ge=0, le=24)


class NonResponderRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]{2,79}$")
    after_sessions: int = Field(ge=1, le=50)
    after_months: float = Field(gt=0, le=36)
    follow_up_months: float = Field(ge=0, le=36)


class ResponderBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    responder: tuple[ResponderRule, ...] = Field(min_length=1)
    non_responder: NonResponderRule


@cache
def load_responder_rules(path: Path | None = None) -> ResponderBook:
    """The clinic's responder rulebook, or the packaged one; cached per path."""
    return load_rulebook(path or DEFAULT_RESPONDER_RULES, ResponderBook)


class ResponderStatus(StrEnum):
    RESPONDER = "responder"
    NON_RESPONDER = "non-responder"
    TOO_EARLY = "too-early"
    CANNOT_JUDGE = "cannot-judge"


STATUS_WORDS = {
    ResponderStatus.RESPONDER: "Responder",
    ResponderStatus.NON_RESPONDER: "Non-responder: review the plan",
    ResponderStatus.TOO_EARLY: "Too early to judge",
    ResponderStatus.CANNOT_JUDGE: "Cannot be judged yet",
}


@dataclass(frozen=True)
class MeasuredSeries:
    """One kind at one site (or whole-head), as the rule reads it."""

    series: Series
    label: str  # "Hair density, total"
    where: str  # "at Vertex", or "" for whole-head counts


@dataclass(frozen=True)
class ResponderResult:
    status: ResponderStatus
    finding: Finding
    version: str

    @property
    def words(self) -> str:
        return STATUS_WORDS[self.status]


@dataclass(frozen=True)
class _Evidence:
    rule: ResponderRule
    measured: MeasuredSeries
    point: ProgressPoint
    months: float
    met: bool

    def words(self) -> str:
        change = self.point.change
        assert change is not None and change.percent is not None
        label = self.measured.label
        what = f"{label[:1].lower()}{label[1:]} {self.measured.where}".strip()
        return f"{what} {change.percent:+.0f} % at {self.months:.1f} months"


def _eligible(rule: ResponderRule, measured: MeasuredSeries) -> _Evidence | None:
    """The rule applied to the latest value old enough to judge by; None when none is."""
    series = measured.series
    if series.kind not in rule.kinds or series.baseline is None or series.first_session is None:
        return None
    start = series.first_session.performed_at
    for point in reversed(series.points):
        change = point.change
        if change is None or change.percent is None:
            continue
        months = months_between(start, point.reading.measured_at)
        if months + 1e-9 < rule.not_before_months:
            continue
        signed = change.percent if rule.direction == "up" else -change.percent
        # Rounded to a tenth of a percent so "exactly 10 %" meets a 10 % threshold.
        met = round(signed, 6) >= rule.threshold_percent
        return _Evidence(rule, measured, point, months, met)
    return None


def evaluate(
    book: ResponderBook,
    measured: Sequence[MeasuredSeries],
    sessions_given: int,
    first_session: datetime | None,
    now: datetime,
) -> ResponderResult:
    """Responder, non-responder, too early or cannot be judged, with the rule and its reason."""

    def result(status: ResponderStatus, rule_id: str, reason: str) -> ResponderResult:
        severity: Severity = "warning" if status is ResponderStatus.NON_RESPONDER else "info"
        return ResponderResult(
            status, Finding(rule_id, severity, reason, book.source), book.version
        )

    if first_session is None or sessions_given == 0:
        return result(
            ResponderStatus.TOO_EARLY, "responder.no-sessions", "No session has been given yet."
        )
    evidence = [e for rule in book.responder for m in measured if (e := _eligible(rule, m))]
    met = [e for e in evidence if e.met]
    if met:
        best = met[0]
        change = best.point.change
        assert change is not None
        reason = (
            f"{_sentence(best.words())} ({best.point.sessions_so_far} sessions): "
            f"meets the clinic's rule \u201c{best.rule.label}\u201d. "
            f"The change is {error_words(change)}."
        )
        return result(ResponderStatus.RESPONDER, best.rule.id, reason)
    rule = book.non_responder
    months = months_between(first_session, now)
    if sessions_given < rule.after_sessions and months < rule.after_months:
        return result(
            ResponderStatus.TOO_EARLY,
            rule.id,
            f"{sessions_given} session(s) and {months:.1f} months since the first session: "
            f"judged after {rule.after_sessions} sessions or {rule.after_months:g} months.",
        )
    late = [e for e in evidence if e.months + 1e-9 >= rule.follow_up_months]
    if not late:
        missing = _missing(book, measured)
        return result(
            ResponderStatus.CANNOT_JUDGE,
            rule.id,
            f"No value to judge by: {missing}. Measure again (same site, same method) "
            f"at least {rule.follow_up_months:g} months after the first session.",
        )
    seen = "; ".join(
        f"{e.words()} (needs {'+' if e.rule.direction == 'up' else '-'}"
        f"{e.rule.threshold_percent:g} %)"
        for e in evidence
    )
    return result(
        ResponderStatus.NON_RESPONDER,
        rule.id,
        f"After {sessions_given} sessions and {months:.1f} months, no measure met the clinic's "
        f"responder rule: {seen}. Review the plan with the patient.",
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _missing(book: ResponderBook, measured: Sequence[MeasuredSeries]) -> str:
    kinds = {k for rule in book.responder for k in rule.kinds}
    relevant = [m for m in measured if m.series.kind in kinds]
    if not relevant:
        return "no density or shedding count has been measured"
    if all(m.series.baseline is None for m in relevant):
        return "no baseline (no value measured before the first session at the same site)"
    return "no follow-up value late enough at a site with a baseline"


def threshold_for(
    book: ResponderBook, kind: str, baseline: float | None
) -> tuple[float, str] | None:
    """The value a responder rule needs for this kind, and its label for a chart legend."""
    if baseline is None:
        return None
    for rule in book.responder:
        if kind in rule.kinds:
            sign = 1 if rule.direction == "up" else -1
            words = f"Responder threshold ({'+' if sign > 0 else '-'}{rule.threshold_percent:g} %)"
            return baseline * (1 + sign * rule.threshold_percent / 100), words
    return None
