"""Safety checks run before a visit is saved. Pure: plain values in, findings out.

Severities: "refuse" blocks the visit; "warning" needs the practitioner's explicit confirmation;
contraindication findings from the assessment module keep their own severities ("absolute"
blocks, "relative" needs confirmation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from mesoclinic.findings import Finding
from mesoclinic.formulary.allergens import (
    ALLERGY_RULE,
    IngredientFacts,
    check_allergies,
)
from mesoclinic.visits.rulebook import VisitRulebook

BLOCKING = frozenset({"refuse", "absolute"})
NEEDS_CONFIRMATION = frozenset({"warning", "relative"})
SRC_CONSENT = (
    "docs/clinical-sources.md#contraindications: "
    "informed consent specific to the procedure before the first visit"
)
SRC_LOT = "docs/clinical-sources.md#formulary: expired or recalled lots are refused at the visit"
SRC_STOCK = "Stock control: a lot cannot give more than it holds"
SRC_PRESCRIBE = (
    "docs/clinical-sources.md#formulary: prescription drugs need a prescriber on the record"
)
SRC_PRODUCT = "Formulary: the lot's product must be a presentation of the chosen cocktail"
SRC_VOLUME = "Stock control: the volume drawn from lots must cover the volume injected"
SRC_WINDOW = "The plan's protocol: each session may move only within its window"


@dataclass(frozen=True)
class LotFacts:
    """A lot as it stands when the visit is checked, and how much the visit draws from it."""

    batch_number: str
    product_name: str
    product_matches_cocktail: bool
    expires_on: date
    recalled: bool
    balance_ul: int
    requested_ul: int


@dataclass(frozen=True)
class DoseFacts:
    depth_mm: float
    volume_per_point_ml: float
    total_volume_ml: float
    needle_gauge: float
    needle_length_mm: float


@dataclass(frozen=True)
class IntervalFacts:
    """The patient's other visit dates and the least gap wanted between two visits."""

    other_visit_dates: tuple[date, ...]
    min_days: int
    source: str


@dataclass(frozen=True)
class PlanSessionFacts:
    """The plan session a visit says it fulfils: its window and its booked appointment day."""

    sequence: int
    planned_date: date
    window_start: date
    window_end: date
    appointment_day: date | None = None
    appointment_label: str | None = None  # "8 Dec 2026 14:00" in the clinic's time


@dataclass(frozen=True)
class VisitFacts:
    """Everything the visit checks need, gathered by the service."""

    visit_date: date
    consent_on_file: bool
    cocktail_name: str
    ingredients: tuple[IngredientFacts, ...]
    allergies: tuple[str, ...]
    may_prescribe: bool
    lots: tuple[LotFacts, ...]
    dose: DoseFacts
    hair_colour_last_date: date | None = None
    prp_given: bool = False
    prp_consent_on_file: bool = False
    interval: IntervalFacts | None = None
    plan_session: PlanSessionFacts | None = None
    extra: tuple[Finding, ...] = field(default=())  # e.g. contraindications from assessment


def check_consent(
    consent_on_file: bool, prp_given: bool = False, prp_consent_on_file: bool = False
) -> list[Finding]:
    """Refuse without a current consent for each procedure given (mesotherapy, PRP)."""
    findings = []
    if not consent_on_file:
        findings.append(
            Finding(
                "consent.missing",
                "refuse",
                "No current mesotherapy consent is on file for this patient.",
                SRC_CONSENT,
            )
        )
    if prp_given and not prp_consent_on_file:
        findings.append(
            Finding(
                "consent.prp_missing",
                "refuse",
                "PRP was given but no current PRP consent is on file.",
                SRC_CONSENT,
            )
        )
    return findings


def check_prescription(
    ingredients: Iterable[IngredientFacts], may_prescribe: bool
) -> list[Finding]:
    """Only a prescriber may record a cocktail with a prescription-only ingredient."""
    if may_prescribe:
        return []
    drugs = sorted(i.name for i in ingredients if i.prescription_only)
    if not drugs:
        return []
    return [
        Finding(
            "prescription.prescriber_required",
            "refuse",
            f"{', '.join(drugs)} is prescription-only: only a clinician may record this visit.",
            SRC_PRESCRIBE,
        )
    ]


def check_lot(lot: LotFacts, on: date) -> list[Finding]:
    """Refuse a wrong, expired, recalled or insufficient lot."""
    label = f"Lot {lot.batch_number} ({lot.product_name})"
    findings = []
    if not lot.product_matches_cocktail:
        findings.append(
            Finding(
                "lot.wrong_product",
                "refuse",
                f"{label} is not a product of the chosen cocktail.",
                SRC_PRODUCT,
            )
        )
    if lot.expires_on < on:
        findings.append(
            Finding(
                "lot.expired",
                "refuse",
                f"{label} expired on {lot.expires_on.isoformat()}.",
                SRC_LOT,
            )
        )
    if lot.recalled:
        findings.append(Finding("lot.recalled", "refuse", f"{label} has been recalled.", SRC_LOT))
    if lot.requested_ul > lot.balance_ul:
        findings.append(
            Finding(
                "lot.insufficient",
                "refuse",
                f"{label} holds {lot.balance_ul / 1000:g} mL; {lot.requested_ul / 1000:g} mL "
                "was requested.",
                SRC_STOCK,
            )
        )
    return findings


def check_lots(lots: Sequence[LotFacts], on: date, total_volume_ml: float) -> list[Finding]:
    """Check every lot, and that the lots cover the volume injected."""
    findings = [f for lot in lots for f in check_lot(lot, on)]
    drawn_ul = sum(lot.requested_ul for lot in lots)
    if drawn_ul < round(total_volume_ml * 1000):
        findings.append(
            Finding(
                "lot.volume_unaccounted",
                "refuse",
                f"The lots give {drawn_ul / 1000:g} mL but {total_volume_ml:g} mL was injected: "
                "record every lot used.",
                SRC_VOLUME,
            )
        )
    return findings


def check_doses(dose: DoseFacts, rulebook: VisitRulebook) -> list[Finding]:
    """Warn outside the typical range, refuse outside the hard limits."""
    findings = []
    for limit in rulebook.limits:
        value = float(getattr(dose, limit.field))
        shown = f"{limit.label} {value:g} {limit.unit}"
        too_low = limit.hard_min is not None and value < limit.hard_min
        too_high = limit.hard_max is not None and value > limit.hard_max
        if too_low or too_high:
            bound = limit.hard_max if too_high else limit.hard_min
            findings.append(
                Finding(
                    f"{limit.id}.hard_limit",
                    "refuse",
                    f"{shown} is beyond the hard limit of {bound:g} {limit.unit}.",
                    limit.source,
                )
            )
        elif not limit.typical_min <= value <= limit.typical_max:
            findings.append(
                Finding(
                    f"{limit.id}.atypical",
                    "warning",
                    f"{shown} is outside the typical {limit.typical_min:g}-{limit.typical_max:g} "
                    f"{limit.unit}.",
                    limit.source,
                )
            )
    return findings


def check_hair_colour(
    last_colour: date | None, visit_date: date, rulebook: VisitRulebook
) -> list[Finding]:
    """Warn when hair was coloured within the precaution window before the visit."""
    rule = rulebook.precaution("precaution.hair_colour")
    if rule is None or last_colour is None:
        return []
    days = (visit_date - last_colour).days
    if 0 <= days <= rule.days_before:
        return [
            Finding(
                rule.id,
                "warning",
                f"{rule.label} {days} day(s) before this visit (window: {rule.days_before} days).",
                rule.source,
            )
        ]
    return []


def check_interval(
    visit_date: date, interval: IntervalFacts, rulebook: VisitRulebook
) -> list[Finding]:
    """Refuse a second visit too close to another (same day); warn under the minimum gap."""
    rule = rulebook.interval
    if not interval.other_visit_dates:
        return []
    nearest = min(interval.other_visit_dates, key=lambda d: (abs((d - visit_date).days), d))
    gap = abs((nearest - visit_date).days)
    when = "the same day" if gap == 0 else f"{gap} day(s) from"
    if gap < rule.refuse_below_days:
        return [
            Finding(
                f"{rule.id}.too_close",
                "refuse",
                f"This patient already has a visit {when} this one ({nearest.isoformat()}); "
                f"visits must be at least {rule.refuse_below_days} day(s) apart.",
                rule.source,
            )
        ]
    if gap < interval.min_days:
        return [
            Finding(
                f"{rule.id}.under_minimum",
                "warning",
                f"The patient's nearest other visit is {gap} day(s) away "
                f"({nearest.isoformat()}); the minimum interval is {interval.min_days} days.",
                interval.source,
            )
        ]
    return []


def check_plan_window(visit_date: date, item: PlanSessionFacts) -> list[Finding]:
    """Warn when the visit falls outside its plan session's window, or off its appointment's day."""
    findings = []
    if not item.window_start <= visit_date <= item.window_end:
        findings.append(
            Finding(
                "plan.session_outside_window",
                "warning",
                f"Session {item.sequence} is planned for {item.planned_date.isoformat()} "
                f"(window {item.window_start.isoformat()} to {item.window_end.isoformat()}); "
                f"this visit is on {visit_date.isoformat()}.",
                SRC_WINDOW,
            )
        )
    if item.appointment_day is not None and item.appointment_day != visit_date:
        findings.append(
            Finding(
                "plan.appointment_other_day",
                "warning",
                f"Session {item.sequence} has an appointment booked on {item.appointment_label}; "
                "it stays booked: cancel or move it in the calendar if it is no longer needed.",
                SRC_WINDOW,
            )
        )
    return findings


def check_visit(facts: VisitFacts, rulebook: VisitRulebook) -> list[Finding]:
    """Every safety check for a visit, blocking findings first."""
    findings = [
        *check_consent(facts.consent_on_file, facts.prp_given, facts.prp_consent_on_file),
        *facts.extra,
        *check_allergies(facts.ingredients, facts.allergies),
        *check_prescription(facts.ingredients, facts.may_prescribe),
        *check_lots(facts.lots, facts.visit_date, facts.dose.total_volume_ml),
        *check_doses(facts.dose, rulebook),
        *check_hair_colour(facts.hair_colour_last_date, facts.visit_date, rulebook),
        *(check_interval(facts.visit_date, facts.interval, rulebook) if facts.interval else []),
        *(check_plan_window(facts.visit_date, facts.plan_session) if facts.plan_session else []),
    ]
    if any(f.rule_id == ALLERGY_RULE for f in findings):
        # The assessment engine names the same allergy; keep the formulary-aware finding.
        findings = [f for f in findings if f.rule_id != "contra.cocktail_allergy"]
    return sorted(_unique(findings), key=lambda f: f.severity not in BLOCKING)


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        if (f.rule_id, f.reason) not in seen:
            seen.add((f.rule_id, f.reason))
            out.append(f)
    return out


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity in BLOCKING]


def unconfirmed(findings: Iterable[Finding], confirmed: Iterable[str]) -> list[Finding]:
    """Warnings the practitioner has not confirmed by rule id."""
    done = set(confirmed)
    return [f for f in findings if f.severity in NEEDS_CONFIRMATION and f.rule_id not in done]
