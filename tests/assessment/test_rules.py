"""Pure tests of the shipped rulebook: every rule fires when it should, and not otherwise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mesoclinic.assessment.rulebook import load_default_rulebook
from mesoclinic.assessment.rules import (
    PatientFacts,
    check_contraindications,
    override_reasons,
    screen,
    short_reason,
)

RB = load_default_rulebook()
BASE = PatientFacts(
    sex="male",
    age_years=38,
    pregnant=False,
    breastfeeding=False,
    allergies=(),
    anticoagulants=False,
    recent_bleeding_risk_supplements=False,
    conditions=(),
    scalp_infection=False,
    open_wound=False,
    herpes_active=False,
    may_become_pregnant=False,
    diagnosis="androgenetic_alopecia",
    staging_scale="norwood_hamilton",
    staging_grade="III",
)
WOMAN = replace(
    BASE,
    sex="female",
    age_years=52,
    diagnosis="female_pattern_hair_loss",
    staging_scale="ludwig",
    staging_grade="I",
)


def contra_ids(facts: PatientFacts) -> set[str]:
    return {f.rule_id for f in check_contraindications(facts, RB)}


def candidacy_of(facts: PatientFacts) -> tuple[str, list[str]]:
    decision = screen(facts, RB)
    return decision.candidacy, [f.rule_id for f in decision.candidacy_findings]


def test_clean_early_aga_is_recommended_without_contraindications() -> None:
    assert candidacy_of(BASE) == ("recommended", ["candidacy.early_male_pattern"])
    assert contra_ids(BASE) == set()


def test_telogen_effluvium_is_recommended() -> None:
    facts = replace(WOMAN, diagnosis="telogen_effluvium", staging_scale=None, staging_grade=None)
    assert candidacy_of(facts) == ("recommended", ["candidacy.telogen_effluvium"])


@pytest.mark.parametrize(
    ("scale", "grade", "diagnosis", "rule"),
    [
        ("norwood_hamilton", "I", "androgenetic_alopecia", "candidacy.early_male_pattern"),
        ("norwood_hamilton", "IIIa", "androgenetic_alopecia", "candidacy.early_male_pattern"),
        ("norwood_hamilton", "III-vertex", "androgenetic_alopecia", "candidacy.early_male_pattern"),
        ("norwood_hamilton", "Va", "androgenetic_alopecia", "candidacy.early_male_pattern"),
        ("ludwig", "I", "female_pattern_hair_loss", "candidacy.early_female_pattern"),
        ("ludwig", "II", "androgenetic_alopecia", "candidacy.early_female_pattern"),
        ("sinclair", "4", "female_pattern_hair_loss", "candidacy.early_female_pattern"),
    ],
)
def test_mild_to_moderate_pattern_loss_is_recommended(
    scale: str, grade: str, diagnosis: str, rule: str
) -> None:
    facts = replace(BASE, diagnosis=diagnosis, staging_scale=scale, staging_grade=grade)
    assert candidacy_of(facts) == ("recommended", [rule])


@pytest.mark.parametrize(
    ("scale", "grade", "rule"),
    [
        ("norwood_hamilton", "VI", "candidacy.advanced_male_pattern"),
        ("norwood_hamilton", "VII", "candidacy.advanced_male_pattern"),
        ("ludwig", "III", "candidacy.advanced_female_pattern_ludwig"),
        ("sinclair", "5", "candidacy.advanced_female_pattern_sinclair"),
    ],
)
def test_advanced_pattern_loss_is_not_recommended(scale: str, grade: str, rule: str) -> None:
    facts = replace(
        WOMAN, diagnosis="androgenetic_alopecia", staging_scale=scale, staging_grade=grade
    )
    assert candidacy_of(facts) == ("not_recommended", [rule])


def test_scarring_alopecia_is_not_recommended() -> None:
    facts = replace(BASE, diagnosis="scarring_alopecia", staging_scale=None, staging_grade=None)
    assert candidacy_of(facts) == ("not_recommended", ["candidacy.scarring_alopecia"])


def test_alopecia_areata_is_caution_and_extensive_salt_adds_its_rule() -> None:
    facts = replace(BASE, diagnosis="alopecia_areata", staging_scale="salt", staging_grade="20")
    assert candidacy_of(facts) == ("caution", ["candidacy.alopecia_areata"])
    facts = replace(facts, staging_grade="50")
    assert candidacy_of(facts) == (
        "caution",
        ["candidacy.alopecia_areata", "candidacy.salt_extensive"],
    )


def test_unstaged_pattern_loss_falls_back_to_caution() -> None:
    facts = replace(BASE, staging_scale=None, staging_grade=None)
    assert candidacy_of(facts) == ("caution", ["candidacy.unclassified"])
    assert candidacy_of(replace(BASE, diagnosis="other")) == ("caution", ["candidacy.unclassified"])


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"pregnant": True}, "contra.pregnancy"),
        ({"breastfeeding": True}, "contra.breastfeeding"),
        ({"scalp_infection": True}, "contra.scalp_infection"),
        ({"herpes_active": True}, "contra.herpes_active"),
        ({"open_wound": True}, "contra.open_wound"),
        (
            {"allergies": ("biotin",), "cocktail_ingredients": ("biotin", "zinc")},
            "contra.cocktail_allergy",
        ),
        (
            {"drugs": ("dutasteride",), "may_become_pregnant": True},
            "contra.antiandrogen_pregnancy_risk",
        ),
        ({"drugs": ("finasteride",), "pregnant": True}, "contra.antiandrogen_pregnancy_risk"),
        (
            {"drugs": ("Dutasteride 0.01 %",), "may_become_pregnant": True},
            "contra.antiandrogen_pregnancy_risk",
        ),
    ],
)
def test_each_absolute_contraindication_fires_and_blocks(
    change: dict[str, object], rule: str
) -> None:
    facts = replace(WOMAN, **change)  # type: ignore[arg-type]
    decision = screen(facts, RB)
    assert rule in {f.rule_id for f in decision.contraindications}
    fired = next(f for f in decision.contraindications if f.rule_id == rule)
    assert fired.severity == "absolute" and fired.reason and fired.source
    assert decision.blocked
    assert decision.candidacy == "not_recommended"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"anticoagulants": True}, "contra.anticoagulants"),
        ({"conditions": ("bleeding_disorder",)}, "contra.bleeding_disorder"),
        ({"conditions": ("diabetes",)}, "contra.diabetes"),
        ({"conditions": ("heart_failure",)}, "contra.heart_failure"),
        ({"conditions": ("kidney_disease",)}, "contra.kidney_disease"),
        ({"conditions": ("cancer",)}, "contra.active_cancer"),
        ({"conditions": ("autoimmune",)}, "contra.autoimmune"),
        ({"conditions": ("keloid_tendency",)}, "contra.keloid_tendency"),
        ({"recent_bleeding_risk_supplements": True}, "contra.recent_bleeding_risk_supplements"),
    ],
)
def test_each_relative_contraindication_fires_and_pushes_to_caution(
    change: dict[str, object], rule: str
) -> None:
    decision = screen(replace(BASE, **change), RB)  # type: ignore[arg-type]
    assert [(f.rule_id, f.severity) for f in decision.contraindications] == [(rule, "relative")]
    assert decision.candidacy == "caution"
    assert not decision.blocked


def test_allergy_rule_needs_a_cocktail_to_fire() -> None:
    assert contra_ids(replace(BASE, allergies=("biotin",))) == set()
    facts = replace(BASE, allergies=("biotin",), cocktail_ingredients=("Biotin (B7)",))
    finding = check_contraindications(facts, RB)[0]
    assert finding.rule_id == "contra.cocktail_allergy" and "biotin (b7)" in finding.reason


def test_antiandrogen_rule_needs_the_drug_and_pregnancy_potential() -> None:
    assert contra_ids(replace(WOMAN, may_become_pregnant=True)) == set()
    assert contra_ids(replace(BASE, drugs=("dutasteride",))) == set()
    assert contra_ids(replace(WOMAN, drugs=("minoxidil",), may_become_pregnant=True)) == set()


def test_other_conditions_do_not_fire() -> None:
    assert contra_ids(replace(BASE, conditions=("thyroid", "iron_deficiency", "herpes"))) == set()


def test_absolute_findings_are_listed_first() -> None:
    facts = replace(WOMAN, anticoagulants=True, pregnant=True)
    severities = [f.severity for f in check_contraindications(facts, RB)]
    assert severities == ["absolute", "relative"]


def test_every_shipped_rule_is_exercised_by_these_tests() -> None:
    exercised = {
        "candidacy.unclassified",
        "candidacy.telogen_effluvium",
        "candidacy.early_male_pattern",
        "candidacy.early_female_pattern",
        "candidacy.advanced_male_pattern",
        "candidacy.advanced_female_pattern_ludwig",
        "candidacy.advanced_female_pattern_sinclair",
        "candidacy.scarring_alopecia",
        "candidacy.alopecia_areata",
        "candidacy.salt_extensive",
        "contra.pregnancy",
        "contra.breastfeeding",
        "contra.cocktail_allergy",
        "contra.scalp_infection",
        "contra.herpes_active",
        "contra.open_wound",
        "contra.antiandrogen_pregnancy_risk",
        "contra.anticoagulants",
        "contra.bleeding_disorder",
        "contra.diabetes",
        "contra.heart_failure",
        "contra.kidney_disease",
        "contra.active_cancer",
        "contra.autoimmune",
        "contra.keloid_tendency",
        "contra.recent_bleeding_risk_supplements",
    }
    shipped = {RB.fallback.id} | {r.id for r in (*RB.candidacy, *RB.contraindications)}
    assert shipped == exercised


@pytest.mark.parametrize(
    ("reason", "short"),
    [
        (
            "Anticoagulant or antiplatelet medication - bleeding and bruising risk; clinician "
            "confirms.",
            "Anticoagulant or antiplatelet medication",
        ),
        (
            "Advanced genetic pattern baldness (Norwood-Hamilton VI-VII): treatment is probably "
            "not fruitful.",
            "Advanced genetic pattern baldness (Norwood-Hamilton VI-VII)",
        ),
        ("Heart failure; clinician confirms.", "Heart failure"),
        ("Pregnancy - no scalp mesotherapy.", "Pregnancy"),
        (
            "Allergy to a component of the chosen cocktail.",
            "Allergy to a component of the chosen cocktail",
        ),
    ],
)
def test_short_reason_keeps_the_first_clause(reason: str, short: str) -> None:
    assert short_reason(reason) == short


def test_override_reasons_follow_the_rule_ids_and_fall_back_to_the_id() -> None:
    decision = {
        "contraindications": [
            {"rule_id": "contra.diabetes", "severity": "relative", "reason": "Diabetes - slower."}
        ],
        "candidacy_findings": [
            {"rule_id": "candidacy.x", "severity": "relative", "reason": "Advanced loss: no."}
        ],
    }
    assert override_reasons(decision, ["candidacy.x", "contra.diabetes", "contra.gone"]) == [
        "Advanced loss",
        "Diabetes",
        "contra.gone",
    ]
