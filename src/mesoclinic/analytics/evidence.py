"""Pure pieces of the safety and rule-evidence reports: rate rows with exact intervals and
small cells hidden, and stage rows pooled under each candidacy rule that covers them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mesoclinic.analytics import stats
from mesoclinic.analytics.cohorts import suppressed
from mesoclinic.analytics.schemas import RateRow, RuleEvidence, StageRow
from mesoclinic.analytics.summaries import interval, responder_figures
from mesoclinic.assessment.rulebook import CandidacyRule

# Condition keys that select patients by what the assessment recorded; a candidacy rule with
# any other key (facts, history, cocktail) is about something the cohort tables do not hold.
STAGE_KEYS = frozenset({"diagnosis_in", "scale_in", "grade_in"})


def rate_row(
    name: str,
    patients: int,
    exposures: int,
    events: int,
    *,
    product: str | None = None,
    recalled: bool = False,
    flag: tuple[bool, str | None] = (False, None),
) -> RateRow:
    """Sessions, sessions with an adverse event and the exact 95 % CI of their rate; all
    hidden when fewer than 5 patients stand behind them (the flag itself stays visible)."""
    hidden: list[str] = []
    row: dict[str, Any] = {"name": name, "product": product, "recalled": recalled}
    row["flagged"], row["flag_reason"] = flag
    if suppressed(patients):
        hidden.extend(["patients", "exposures", "events", "rate"])
        return RateRow(**row, patients=None, exposures=None, events=None, suppressed=hidden)
    row |= {"patients": patients, "exposures": exposures, "events": events}
    if exposures:
        row["rate"] = events / exposures
        row["ci"] = interval(stats.clopper_pearson(events, exposures))
    return RateRow(**row, suppressed=hidden)


@dataclass(frozen=True)
class StageCounts:
    diagnosis: str | None
    scale: str | None
    grade: str | None
    n: int
    total: float
    total_sq: float
    responders: int | None

    @property
    def label(self) -> str:
        if self.scale is None or self.grade is None:
            return "not staged"
        return f"{self.scale.replace('_', '-')} {self.grade}"


def stage_counts(rows: Iterable[Mapping[Any, Any]], point: str) -> list[StageCounts]:
    """The moments query's rows of one time point, grouped by diagnosis and stage."""
    return [
        StageCounts(
            r["diagnosis"],
            r["scale"],
            r["grade"],
            int(r["n"]),
            float(r["total"] or 0),
            float(r["total_sq"] or 0),
            int(r["responders"] or 0) if r["judged"] else None,
        )
        for r in rows
        if r["tp"] == point
    ]


def stage_row(counts: StageCounts) -> StageRow:
    hidden: list[str] = []
    row: dict[str, Any] = {"diagnosis": counts.diagnosis, "stage": counts.label}
    if suppressed(counts.n):
        hidden.extend(["n", "mean_change", "responder_rate"])
        return StageRow(**row, n=None, suppressed=hidden)
    mean, ci = stats.summarise_from_moments(counts.n, counts.total, counts.total_sq)
    row |= {"n": counts.n, "mean_change": mean, "mean_change_ci": interval(ci)}
    if counts.responders is not None:
        row |= responder_figures(counts.responders, counts.n, hidden)
    return StageRow(**row, suppressed=hidden)


def covers(rule: CandidacyRule, counts: StageCounts) -> bool:
    """Whether the rule's diagnosis, scale and grade conditions all hold for this stage row."""
    when = rule.when.model_dump(exclude_none=True)
    if not when or set(when) - STAGE_KEYS:
        return False
    checks = {"diagnosis_in": counts.diagnosis, "scale_in": counts.scale, "grade_in": counts.grade}
    return all(checks[key] in values for key, values in when.items())


def rule_evidence(
    rules: Sequence[CandidacyRule], stages: Sequence[StageCounts]
) -> list[RuleEvidence]:
    """Each stage-based candidacy rule with the pooled response of the stages it covers."""
    evidence = []
    for rule in rules:
        covered = [s for s in stages if covers(rule, s)]
        if not rule.when.model_dump(exclude_none=True).keys() <= STAGE_KEYS:
            continue
        n = sum(s.n for s in covered)
        judged = [s.responders for s in covered if s.responders is not None]
        hidden: list[str] = []
        row: dict[str, Any] = {
            "rule_id": rule.id,
            "outcome": rule.outcome,
            "reason": rule.reason,
            "source": rule.source,
            "stages": [f"{s.diagnosis or 'no diagnosis'}, {s.label}" for s in covered],
        }
        if suppressed(n):
            evidence.append(RuleEvidence(**row, n=None, suppressed=["n", "responder_rate"]))
            continue
        row["n"] = n
        if judged and n:
            row |= responder_figures(sum(judged), n, hidden)
        evidence.append(RuleEvidence(**row, suppressed=hidden))
    return evidence
