"""facts_from_record: what visit-day checks get (history plus the latest assessment)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mesoclinic.assessment import service
from mesoclinic.assessment.rulebook import load_default_rulebook
from mesoclinic.assessment.rules import check_contraindications
from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.patients.models import Patient


def _facts(world: Any, **kw: Any) -> Any:
    with unit_of_work(world.db.factory) as s:
        patient = s.get(Patient, world.patient_a.id)
        return service.facts_from_record(s, patient, **kw)


def test_cocktail_allergy_fires_only_with_the_cocktail(
    world: Any, clinician: Any, kit: Any
) -> None:
    pid = world.patient_a.id
    clinician.post(f"/api/v1/patients/{pid}/allergies", json={"substance": "Biotin"})
    clinician.post(kit.url(world.patient_a), json=kit.female_fphl)
    rb = load_default_rulebook()
    assert check_contraindications(_facts(world), rb) == []
    facts = _facts(world, cocktail_ingredients=["Biotin", "Zinc"], drugs=["dutasteride"])
    ids = {f.rule_id for f in check_contraindications(facts, rb)}
    assert ids == {"contra.cocktail_allergy", "contra.antiandrogen_pregnancy_risk"}


def test_latest_assessment_gives_diagnosis_stage_and_scalp(
    world: Any, clinician: Any, kit: Any
) -> None:
    clinician.post(
        kit.url(world.patient_a),
        json={
            **kit.female_fphl,
            "assessed_at": (utcnow() - timedelta(days=90)).isoformat(),
            "scalp_infection": True,
        },
    )
    clinician.post(
        kit.url(world.patient_a),
        json={
            "diagnosis": "female_pattern_hair_loss",
            "staging": {"scale": "sinclair", "grade": "2"},
            "herpes_active": True,
        },
    )
    facts = _facts(world)
    assert (facts.diagnosis, facts.staging_scale, facts.staging_grade) == (
        "female_pattern_hair_loss",
        "sinclair",
        "2",
    )
    assert facts.herpes_active and not facts.scalp_infection


def test_stated_supplements_count_only_within_ten_days(
    world: Any, clinician: Any, kit: Any
) -> None:
    clinician.post(
        kit.url(world.patient_a),
        json={
            **kit.female_fphl,
            "recent_bleeding_risk_supplements": True,
            "assessed_at": (utcnow() - timedelta(days=3)).isoformat(),
        },
    )
    assert _facts(world).recent_bleeding_risk_supplements
    later = (utcnow() + timedelta(days=12)).date()
    assert not _facts(world, on_date=later).recent_bleeding_risk_supplements


def test_stated_no_pregnancy_gives_way_to_a_later_history_entry(
    world: Any, clinician: Any, kit: Any
) -> None:
    clinician.post(
        kit.url(world.patient_a),
        json={
            **kit.female_fphl,
            "pregnant": False,
            "assessed_at": (utcnow() - timedelta(days=1)).isoformat(),
        },
    )
    assert not _facts(world).pregnant
    clinician.post(
        f"/api/v1/patients/{world.patient_a.id}/pregnancy-statuses", json={"value": "pregnant"}
    )
    assert _facts(world).pregnant
