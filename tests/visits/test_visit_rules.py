"""The pure visit checks: doses, lots, allergy, prescriber, consent, hair colour window."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesoclinic.config import Settings
from mesoclinic.findings import RulebookError
from mesoclinic.formulary.allergens import IngredientFacts, check_allergies
from mesoclinic.visits import rules
from mesoclinic.visits.rulebook import DEFAULT_PATH, get_visit_rulebook, load

BOOK = get_visit_rulebook()
TODAY = date(2026, 11, 23)


def _dose(**kw: float) -> rules.DoseFacts:
    values = {
        "depth_mm": 1.5,
        "volume_per_point_ml": 0.05,
        "total_volume_ml": 3,
        "needle_gauge": 30,
        "needle_length_mm": 4,
    }
    values.update(kw)
    return rules.DoseFacts(**values)


def _ids(findings: list) -> list[str]:
    return [f.rule_id for f in findings]


def test_typical_dose_has_no_findings():
    assert rules.check_doses(_dose(), BOOK) == []


@pytest.mark.parametrize(
    "field, value, rule, severity",
    [
        ("total_volume_ml", 12, "dose.total.hard_limit", "refuse"),
        ("total_volume_ml", 3.5, None, None),
        ("total_volume_ml", 6, "dose.total.atypical", "warning"),
        ("total_volume_ml", 1, "dose.total.atypical", "warning"),
        ("depth_mm", 6.5, "dose.depth.hard_limit", "refuse"),
        ("depth_mm", 5, "dose.depth.atypical", "warning"),
        ("volume_per_point_ml", 0.15, "dose.per_point.atypical", "warning"),
        ("volume_per_point_ml", 0.25, "dose.per_point.hard_limit", "refuse"),
        ("needle_gauge", 25, "needle.gauge.atypical", "warning"),
        ("needle_length_mm", 15, "needle.length.atypical", "warning"),
    ],
)
def test_dose_limits(field, value, rule, severity):
    found = rules.check_doses(_dose(**{field: value}), BOOK)
    assert [(f.rule_id, f.severity) for f in found] == ([(rule, severity)] if rule else [])
    assert all(f.source for f in found)


@given(st.floats(min_value=0.01, max_value=20, allow_nan=False))
def test_total_volume_is_refused_exactly_above_the_hard_limit(total):
    found = rules.check_doses(_dose(total_volume_ml=total), BOOK)
    assert ("dose.total.hard_limit" in _ids(found)) == (total > 10)
    assert ("dose.total.atypical" in _ids(found)) == (total <= 10 and not 2 <= total <= 5)


def _lot(**kw: object) -> rules.LotFacts:
    values: dict[str, object] = {
        "batch_number": "B",
        "product_name": "P",
        "product_matches_cocktail": True,
        "expires_on": TODAY + timedelta(days=10),
        "recalled": False,
        "balance_ul": 5000,
        "requested_ul": 3000,
    }
    values.update(kw)
    return rules.LotFacts(**values)  # type: ignore[arg-type]


def test_lot_checks_name_each_problem():
    assert rules.check_lot(_lot(), TODAY) == []
    assert _ids(rules.check_lot(_lot(expires_on=TODAY - timedelta(days=1)), TODAY)) == [
        "lot.expired"
    ]
    assert rules.check_lot(_lot(expires_on=TODAY), TODAY) == []  # usable on its expiry day
    assert _ids(rules.check_lot(_lot(recalled=True), TODAY)) == ["lot.recalled"]
    assert _ids(rules.check_lot(_lot(requested_ul=5001), TODAY)) == ["lot.insufficient"]
    assert _ids(rules.check_lot(_lot(product_matches_cocktail=False), TODAY)) == [
        "lot.wrong_product"
    ]


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_insufficient_exactly_when_request_exceeds_balance(balance, requested):
    found = rules.check_lot(_lot(balance_ul=balance, requested_ul=requested), TODAY)
    assert ("lot.insufficient" in _ids(found)) == (requested > balance)


def test_lots_must_cover_the_injected_volume():
    assert _ids(rules.check_lots([_lot(requested_ul=2000)], TODAY, 3)) == ["lot.volume_unaccounted"]
    assert rules.check_lots([_lot(requested_ul=2000), _lot(requested_ul=1000)], TODAY, 3) == []


BIOTIN = IngredientFacts("biotin", aliases=("vitamin b7",))
DUTA = IngredientFacts("dutasteride", prescription_only=True)


def test_allergy_matches_name_or_alias_case_blind():
    assert _ids(check_allergies([BIOTIN], ["Biotin"])) == ["allergy.cocktail_ingredient"]
    assert _ids(check_allergies([BIOTIN], ["Vitamin-B7"])) == ["allergy.cocktail_ingredient"]
    assert check_allergies([BIOTIN], ["penicillin"]) == []


def test_prescription_only_needs_a_prescriber():
    assert _ids(rules.check_prescription([BIOTIN, DUTA], may_prescribe=False)) == [
        "prescription.prescriber_required"
    ]
    assert rules.check_prescription([BIOTIN, DUTA], may_prescribe=True) == []
    assert rules.check_prescription([BIOTIN], may_prescribe=False) == []


def test_consent_checks():
    assert _ids(rules.check_consent(False)) == ["consent.missing"]
    assert rules.check_consent(True) == []
    assert _ids(rules.check_consent(True, prp_given=True)) == ["consent.prp_missing"]


@given(st.integers(-3, 30))
def test_hair_colour_warns_within_seven_days_before(days_before):
    found = rules.check_hair_colour(TODAY - timedelta(days=days_before), TODAY, BOOK)
    assert bool(found) == (0 <= days_before <= 7)


def test_warnings_need_confirmation_and_refusals_block():
    findings = rules.check_doses(_dose(total_volume_ml=6, depth_mm=7), BOOK)
    assert _ids(rules.blocking(findings)) == ["dose.depth.hard_limit"]
    assert _ids(rules.unconfirmed(findings, [])) == ["dose.total.atypical"]
    assert rules.unconfirmed(findings, ["dose.total.atypical"]) == []


def test_rulebook_with_inverted_limits_is_refused_naming_the_rule(tmp_path: Path):
    text = DEFAULT_PATH.read_text().replace("typical_max: 4\n", "typical_max: 0.1\n", 1)
    bad = tmp_path / "rules.yaml"
    bad.write_text(text)
    with pytest.raises(RulebookError, match="dose.depth"):
        load(bad)


def test_clinic_rulebook_from_the_environment(tmp_path: Path, monkeypatch):
    text = DEFAULT_PATH.read_text().replace("hard_max: 10", "hard_max: 8")
    mine = tmp_path / "clinic.yaml"
    mine.write_text(text)
    monkeypatch.setenv("MESOCLINIC_VISIT_RULEBOOK", str(mine))
    book = get_visit_rulebook(Settings().visit_rulebook)
    assert "dose.total.hard_limit" in _ids(rules.check_doses(_dose(total_volume_ml=9), book))
