"""Turning the medical history (and what an assessment stated) into the facts the rules read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mesoclinic.assessment.rules import PatientFacts
from mesoclinic.patients.history import active
from mesoclinic.patients.models import Medication, Patient

# Stop aspirin/NSAIDs, vitamin E, fish oil, ginkgo 7-10 days before
# (docs/clinical-sources.md#aftercare-windows); the cautious end of the range is used for
# "recent", and for a recently stopped anticoagulant too.
BLEEDING_WINDOW_DAYS = 10
ANTICOAGULANT_CATEGORIES = frozenset({"anticoagulant", "antiplatelet"})
SUPPLEMENT_CATEGORIES = frozenset({"aspirin", "nsaid", "vitamin_e", "fish_oil", "ginkgo"})
# Without a recorded pregnancy plan, women of these ages are taken as able to become pregnant
# (the cautious reading for dutasteride/finasteride).
CHILDBEARING_AGES = range(12, 51)
STATED_FACTS = (
    "pregnant",
    "breastfeeding",
    "anticoagulants",
    "recent_bleeding_risk_supplements",
    "may_become_pregnant",
)


def age_on(birth_date: date, on_date: date) -> int:
    """Completed years of age on a date."""
    years = on_date.year - birth_date.year
    return years - ((on_date.month, on_date.day) < (birth_date.month, birth_date.day))


def _taking(medications: list[Medication], categories: frozenset[str], on_date: date) -> bool:
    since = on_date - timedelta(days=BLEEDING_WINDOW_DAYS)
    for med in active(medications):
        started_ok = med.started_on is None or med.started_on <= on_date
        not_stopped = med.stopped_on is None or med.stopped_on >= since
        if med.category in categories and started_ok and not_stopped:
            return True
    return False


@dataclass(frozen=True)
class HistoryFacts:
    """The rule facts the medical history alone gives on a date."""

    sex: str
    age_years: int
    pregnancy_status: str
    allergies: tuple[str, ...]
    anticoagulants: bool
    recent_bleeding_risk_supplements: bool
    conditions: tuple[str, ...]

    @property
    def may_become_pregnant(self) -> bool:
        return self.sex == "female" and self.age_years in CHILDBEARING_AGES

    def default(self, name: str) -> bool:
        """The history's answer for a fact an assessment may state instead."""
        values: dict[str, bool] = {
            "pregnant": self.pregnancy_status == "pregnant",
            "breastfeeding": self.pregnancy_status == "breastfeeding",
            "anticoagulants": self.anticoagulants,
            "recent_bleeding_risk_supplements": self.recent_bleeding_risk_supplements,
            "may_become_pregnant": self.may_become_pregnant,
        }
        return values[name]


def history_facts(patient: Patient, on_date: date) -> HistoryFacts:
    """Read the rule facts from the patient's active history entries."""
    statuses = active(patient.pregnancy_statuses)
    return HistoryFacts(
        sex=patient.sex,
        age_years=age_on(patient.birth_date, on_date),
        pregnancy_status=statuses[-1].value if statuses else "unknown",
        allergies=tuple(sorted({a.substance.strip().lower() for a in active(patient.allergies)})),
        anticoagulants=_taking(patient.medications, ANTICOAGULANT_CATEGORIES, on_date),
        recent_bleeding_risk_supplements=_taking(
            patient.medications, SUPPLEMENT_CATEGORIES, on_date
        ),
        conditions=tuple(sorted({c.kind for c in active(patient.conditions)})),
    )


def build_facts(
    history: HistoryFacts,
    stated: dict[str, Any],
    assessment: dict[str, Any],
    *,
    cocktail_ingredients: tuple[str, ...] = (),
    drugs: tuple[str, ...] = (),
) -> PatientFacts:
    """Combine history, facts stated at the assessment (None = take the history's) and findings."""

    def fact(name: str) -> bool:
        value = stated.get(name)
        return history.default(name) if value is None else bool(value)

    allergies = {*history.allergies, *(a.strip().lower() for a in stated.get("allergies") or ())}
    conditions = {*history.conditions, *(stated.get("conditions") or ())}
    return PatientFacts(
        sex=history.sex,
        age_years=history.age_years,
        pregnant=fact("pregnant"),
        breastfeeding=fact("breastfeeding"),
        allergies=tuple(sorted(a for a in allergies if a)),
        anticoagulants=fact("anticoagulants"),
        recent_bleeding_risk_supplements=fact("recent_bleeding_risk_supplements"),
        conditions=tuple(sorted(conditions)),
        scalp_infection=bool(assessment.get("scalp_infection")),
        open_wound=bool(assessment.get("open_wound")),
        herpes_active=bool(assessment.get("herpes_active")),
        may_become_pregnant=fact("may_become_pregnant"),
        diagnosis=assessment.get("diagnosis"),
        staging_scale=assessment.get("staging_scale"),
        staging_grade=assessment.get("staging_grade"),
        cocktail_ingredients=tuple(i.strip().lower() for i in cocktail_ingredients),
        drugs=tuple(d.strip().lower() for d in drugs),
    )
