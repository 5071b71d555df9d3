"""Facts from the medical history: dates, windows and the cautious defaults."""

from __future__ import annotations

from datetime import date

from mesoclinic.assessment.facts import age_on, build_facts, history_facts
from mesoclinic.patients.models import (
    Allergy,
    Condition,
    Medication,
    Patient,
    PregnancyStatus,
)

TODAY = date(2026, 11, 23)


def _patient(**kw: object) -> Patient:
    patient = Patient(sex=kw.pop("sex", "female"), birth_date=kw.pop("birth", date(1990, 5, 1)))
    patient.allergies = list(kw.pop("allergies", []))  # type: ignore[arg-type]
    patient.medications = list(kw.pop("medications", []))  # type: ignore[arg-type]
    patient.conditions = list(kw.pop("conditions", []))  # type: ignore[arg-type]
    patient.pregnancy_statuses = list(kw.pop("statuses", []))  # type: ignore[arg-type]
    return patient


def _med(
    category: str, stopped: date | None = None, started: date | None = None, status: str = "active"
) -> Medication:
    return Medication(
        name=category, category=category, stopped_on=stopped, started_on=started, status=status
    )


def test_age_counts_completed_years() -> None:
    assert age_on(date(1990, 11, 24), TODAY) == 35
    assert age_on(date(1990, 11, 23), TODAY) == 36


def test_supplement_stopped_within_ten_days_still_counts() -> None:
    assert history_facts(
        _patient(medications=[_med("fish_oil", date(2026, 11, 14))]), TODAY
    ).recent_bleeding_risk_supplements
    assert not history_facts(
        _patient(medications=[_med("ginkgo", date(2026, 11, 12))]), TODAY
    ).recent_bleeding_risk_supplements


def test_anticoagulant_entered_in_error_or_not_yet_started_does_not_count() -> None:
    assert not history_facts(
        _patient(medications=[_med("anticoagulant", status="entered-in-error")]), TODAY
    ).anticoagulants
    assert not history_facts(
        _patient(medications=[_med("antiplatelet", started=date(2026, 12, 1))]), TODAY
    ).anticoagulants
    assert history_facts(_patient(medications=[_med("antiplatelet")]), TODAY).anticoagulants


def test_newest_pregnancy_status_wins_and_allergies_are_lower_case() -> None:
    patient = _patient(
        statuses=[
            PregnancyStatus(value="pregnant", status="active"),
            PregnancyStatus(value="breastfeeding", status="active"),
        ],
        allergies=[
            Allergy(substance=" Biotin ", status="active"),
            Allergy(substance="Zinc", status="entered-in-error"),
        ],
        conditions=[Condition(name="T2DM", kind="diabetes", status="active")],
    )
    facts = history_facts(patient, TODAY)
    assert facts.pregnancy_status == "breastfeeding"
    assert facts.allergies == ("biotin",)
    assert facts.conditions == ("diabetes",)


def test_women_of_childbearing_age_may_become_pregnant_unless_stated() -> None:
    young = history_facts(_patient(), TODAY)
    assert young.may_become_pregnant
    assert not history_facts(_patient(birth=date(1960, 1, 1)), TODAY).may_become_pregnant
    assert not history_facts(_patient(sex="male"), TODAY).may_become_pregnant
    stated = build_facts(young, {"may_become_pregnant": False}, {})
    assert stated.may_become_pregnant is False


def test_stated_facts_replace_history_and_lists_are_merged() -> None:
    history = history_facts(
        _patient(
            statuses=[PregnancyStatus(value="pregnant", status="active")],
            allergies=[Allergy(substance="biotin", status="active")],
        ),
        TODAY,
    )
    facts = build_facts(
        history,
        {"pregnant": False, "allergies": ["Copper"], "conditions": ["autoimmune"]},
        {"diagnosis": "telogen_effluvium"},
        cocktail_ingredients=(" Zinc ",),
    )
    assert facts.pregnant is False
    assert facts.allergies == ("biotin", "copper")
    assert facts.conditions == ("autoimmune",)
    assert facts.cocktail_ingredients == ("zinc",)
