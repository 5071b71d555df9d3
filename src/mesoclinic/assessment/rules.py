"""The candidacy decision and contraindication screen: a pure function of facts and rulebook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mesoclinic.assessment.rulebook import (
    Candidacy,
    CandidacyRule,
    ContraindicationRule,
    Rulebook,
    When,
)
from mesoclinic.assessment.staging import salt_value
from mesoclinic.findings import Finding, Severity

CANDIDACY_ORDER: tuple[Candidacy, ...] = ("recommended", "caution", "not_recommended")
# How a candidacy finding is flagged: only "not recommended" needs a clinician's override.
CANDIDACY_SEVERITY: dict[str, Severity] = {
    "recommended": "info",
    "caution": "warning",
    "not_recommended": "relative",
}


@dataclass(frozen=True)
class PatientFacts:
    """Everything the rules look at, already taken from the assessment and medical history."""

    sex: str
    age_years: int | None
    pregnant: bool
    breastfeeding: bool
    allergies: tuple[str, ...]
    anticoagulants: bool
    recent_bleeding_risk_supplements: bool
    conditions: tuple[str, ...]
    scalp_infection: bool
    open_wound: bool
    herpes_active: bool
    may_become_pregnant: bool
    diagnosis: str | None
    staging_scale: str | None
    staging_grade: str | None
    cocktail_ingredients: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Candidacy with the rules behind it, and every contraindication that fired."""

    candidacy: Candidacy
    candidacy_findings: tuple[Finding, ...]
    contraindications: tuple[Finding, ...]
    rulebook_version: str

    @property
    def blocked(self) -> bool:
        """An absolute contraindication stands: no treatment, whatever anyone overrides."""
        return any(f.severity == "absolute" for f in self.contraindications)

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidacy": self.candidacy,
            "candidacy_findings": [f.as_dict() for f in self.candidacy_findings],
            "contraindications": [f.as_dict() for f in self.contraindications],
            "rulebook_version": self.rulebook_version,
            "blocked": self.blocked,
        }


def allergy_matches(allergies: tuple[str, ...], ingredients: tuple[str, ...]) -> list[str]:
    """Cocktail ingredients the patient is allergic to (substring either way, case-blind)."""
    hits = []
    for ingredient in ingredients:
        name = ingredient.strip().lower()
        if name and any(
            a and (a in name or name in a) for a in (x.strip().lower() for x in allergies)
        ):
            hits.append(name)
    return hits


def _holds(when: When, facts: PatientFacts) -> tuple[bool, list[str]]:
    """Whether every key of the condition holds, with details worth naming in the reason."""
    details: list[str] = []
    checks: list[bool] = []
    if when.fact is not None:
        checks.append(bool(getattr(facts, when.fact)))
    if when.fact_any is not None:
        checks.append(any(getattr(facts, f) for f in when.fact_any))
    if when.diagnosis_in is not None:
        checks.append(facts.diagnosis in when.diagnosis_in)
    if when.scale_in is not None:
        checks.append(facts.staging_scale in when.scale_in)
    if when.grade_in is not None:
        checks.append(facts.staging_grade in when.grade_in and facts.staging_scale != "salt")
    if when.salt_at_least is not None:
        salt = salt_value(facts.staging_scale, facts.staging_grade)
        checks.append(salt is not None and salt >= when.salt_at_least)
    if when.sex_in is not None:
        checks.append(facts.sex in when.sex_in)
    if when.condition_in is not None:
        found = [c for c in facts.conditions if c.lower() in when.condition_in]
        checks.append(bool(found))
        details += found
    if when.drug_in is not None:
        # Product names often carry a strength ("Dutasteride 0.01 %"): match the drug name in it.
        drugs = [d for d in facts.drugs if any(x in d.lower() for x in when.drug_in)]
        checks.append(bool(drugs))
        details += drugs
    if when.allergy_to_cocktail is not None:
        hits = allergy_matches(facts.allergies, facts.cocktail_ingredients)
        checks.append(bool(hits) == when.allergy_to_cocktail)
        details += hits
    return bool(checks) and all(checks), details


def _finding(
    rule: CandidacyRule | ContraindicationRule, severity: Severity, details: list[str]
) -> Finding:
    reason = rule.reason if not details else f"{rule.reason} ({', '.join(sorted(set(details)))})"
    return Finding(rule.id, severity, reason, rule.source)


def check_contraindications(facts: PatientFacts, rulebook: Rulebook) -> list[Finding]:
    """Every contraindication rule that fires, absolute ones first."""
    found = []
    for rule in rulebook.contraindications:
        fired, details = _holds(rule.when, facts)
        if fired:
            found.append(_finding(rule, rule.severity, details))
    return sorted(found, key=lambda f: f.severity != "absolute")


def _candidacy_findings(facts: PatientFacts, rulebook: Rulebook) -> list[tuple[Candidacy, Finding]]:
    fired = []
    for rule in rulebook.candidacy:
        holds, details = _holds(rule.when, facts)
        if holds:
            fired.append((rule.outcome, _finding(rule, CANDIDACY_SEVERITY[rule.outcome], details)))
    if not fired:
        fb = rulebook.fallback
        fired.append(
            (fb.outcome, Finding(fb.id, CANDIDACY_SEVERITY[fb.outcome], fb.reason, fb.source))
        )
    return fired


def worst(*outcomes: Candidacy) -> Candidacy:
    """The most cautious of several candidacy outcomes."""
    return max(outcomes, key=CANDIDACY_ORDER.index)


def screen(facts: PatientFacts, rulebook: Rulebook) -> Decision:
    """Decide candidacy and list contraindications; every item names the rule that fired."""
    fired = _candidacy_findings(facts, rulebook)
    contraindications = check_contraindications(facts, rulebook)
    candidacy = worst(*(outcome for outcome, _ in fired))
    if any(f.severity == "relative" for f in contraindications):
        candidacy = worst(candidacy, rulebook.escalation.relative)
    if any(f.severity == "absolute" for f in contraindications):
        candidacy = worst(candidacy, rulebook.escalation.absolute)
    return Decision(
        candidacy, tuple(f for _, f in fired), tuple(contraindications), rulebook.version
    )


def needs_override(decision: dict[str, Any], overridden: set[str]) -> list[str]:
    """Rule ids on a stored decision that block treatment until a clinician overrides them."""
    findings = decision.get("contraindications", [])
    if decision.get("candidacy") == "not_recommended":
        findings = [*findings, *decision.get("candidacy_findings", [])]
    ids = [f["rule_id"] for f in findings if f["severity"] == "relative"]
    return [i for i in ids if i not in overridden]


def short_reason(reason: str) -> str:
    """A finding's reason cut to its first clause, for a one-line list: "Anticoagulant or
    antiplatelet medication - bleeding and bruising risk; ..." -> "Anticoagulant or
    antiplatelet medication"."""
    cut = min((i for sep in (": ", " - ", "; ", ". ") if (i := reason.find(sep)) > 0), default=-1)
    return (reason[:cut] if cut > 0 else reason).strip().rstrip(".")


def override_reasons(decision: dict[str, Any], rule_ids: list[str]) -> list[str]:
    """The short reasons of the findings `rule_ids` names on a stored decision (the rule id
    where the decision holds no reason for it), in the given order."""
    findings = [*decision.get("contraindications", []), *decision.get("candidacy_findings", [])]
    reasons = {f["rule_id"]: f.get("reason") or f["rule_id"] for f in findings}
    return [short_reason(reasons.get(i, i)) for i in rule_ids]


def awaits_override(decision: dict[str, Any]) -> bool:
    """Whether a stored decision (its overrides included) waits for a clinician's override:
    kept in `assessments.awaiting_override` so the dashboard asks the database, not Python."""
    overridden = {o["rule_id"] for o in decision.get("overrides", [])}
    return bool(needs_override(decision, overridden)) and not decision.get("blocked")
