"""An allergy known at planning: the visit check's allergy rule warns when a plan is created."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mesoclinic.db import unit_of_work
from mesoclinic.formulary import service as formulary_service
from mesoclinic.formulary.allergens import ALLERGY_RULE
from mesoclinic.formulary.schemas import CocktailCreate, CocktailLineIn, IngredientCreate
from mesoclinic.plans.models import TreatmentPlan
from mesoclinic.security.actor import cli_actor
from plans.plan_support import make_treatable, next_weekday
from support import csrf_from


def _vitamin_cocktail(world: Any) -> None:
    """The cocktail the standard-vitamin protocol names, with biotin (alias vitamin B7)."""
    actor = cli_actor("test-setup")
    with unit_of_work(world.db.factory) as s:
        biotin = formulary_service.create_ingredient(
            s, actor, IngredientCreate(name="biotin", category="vitamin", aliases=["vitamin b7"])
        )
        formulary_service.create_cocktail(
            s,
            actor,
            CocktailCreate(
                name="Standard vitamin cocktail",
                total_volume_ml=5,
                lines=[CocktailLineIn(ingredient_id=biotin.id, concentration=0.5, unit="mg/mL")],
            ),
        )


def _allergic_patient(world: Any, substance: str = "Vitamin-B7") -> None:
    make_treatable(world, world.patient_a)
    _vitamin_cocktail(world)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/allergies",
        json={"substance": substance, "severity": "moderate"},
    )
    assert r.status_code == 201, r.text


def _plans(world: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(TreatmentPlan)).scalar_one()


def _body(**extra: Any) -> dict[str, Any]:
    return {"protocol_code": "standard-vitamin", "start_date": next_weekday(1).isoformat(), **extra}


def test_plan_for_an_allergic_patient_needs_the_allergy_confirmed(world):
    _allergic_patient(world)
    url = f"/api/v1/patients/{world.patient_a.id}/plans"
    r = world.client("clinician").post(url, json=_body())
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "warnings_need_confirmation"
    [check] = error["checks"]
    assert check["rule_id"] == ALLERGY_RULE and check["severity"] == "warning"
    assert "vitamin b7" in check["reason"] and "biotin" in check["reason"]
    assert check["source"].startswith("docs/clinical-sources.md#contraindications")
    assert _plans(world) == 0
    confirmed = world.client("clinician").post(url, json=_body(confirmed_warnings=[ALLERGY_RULE]))
    assert confirmed.status_code == 201, confirmed.text
    assert _plans(world) == 1


def test_no_warning_without_a_matching_allergy(world):
    _allergic_patient(world, substance="penicillin")
    r = world.client("clinician").post(f"/api/v1/patients/{world.patient_a.id}/plans", json=_body())
    assert r.status_code == 201, r.text


def test_plan_page_shows_the_allergy_warning_with_a_confirm_box(world):
    _allergic_patient(world)
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/plan"
    form = {
        "csrf_token": csrf_from(web.get(url).text),
        "protocol_code": "standard-vitamin",
        "start_date": next_weekday(1).isoformat(),
        "activate": "on",
    }
    r = web.post(url, data=form)
    assert r.status_code == 422
    assert "allergic to vitamin b7" in r.text
    assert f'name="confirm" value="{ALLERGY_RULE}"' in r.text
    assert _plans(world) == 0
    done = web.post(url, data={**form, "confirm": ALLERGY_RULE}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert _plans(world) == 1
