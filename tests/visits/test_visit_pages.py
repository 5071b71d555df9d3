"""The Visits tab: list, form refusals with checks shown, confirmation, detail, void."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mesoclinic.formulary.models import Lot
from mesoclinic.visits.models import Visit
from support import csrf_from


def _form(stocked: Any, **overrides: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "cocktail_id": str(stocked.vitamin_cocktail.id),
        "lot_id_0": str(stocked.vitamin_lot.id),
        "volume_ml_0": "3.5",
        "technique": "nappage",
        "depth_mm": "1.5",
        "points": "35",
        "volume_per_point_ml": "0.1",
        "total_volume_ml": "3.5",
        "zones": ["vertex", "frontal"],
        "needle_gauge": "30",
        "needle_length_mm": "4",
        "pain_score": "2",
        "adverse_type": "none",
        "hair_colour_last_date": "",
    }
    values.update(overrides)
    return values


def test_form_shows_warning_then_records_once_confirmed(world, stocked):
    from datetime import date, timedelta

    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/visits"
    page = web.get(url)
    assert page.status_code == 200 and "Record a visit" in page.text
    coloured = (date.today() - timedelta(days=2)).isoformat()
    r = web.post(
        url,
        data={**_form(stocked, hair_colour_last_date=coloured), "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 422
    assert 'value="precaution.hair_colour"' in r.text and "I confirm this warning" in r.text
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 0
    r = web.post(
        url,
        data={
            **_form(stocked, hair_colour_last_date=coloured),
            "confirm": "precaution.hair_colour",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 303, r.text
    detail = web.get(r.headers["location"])
    assert "precaution.hair_colour" in detail.text and "3.5 mL" in detail.text
    assert "Standard vitamin cocktail" in web.get(url).text
    with world.db.factory() as s:
        assert s.get(Lot, stocked.vitamin_lot.id).balance_ul == 46_500


def test_form_refusal_lists_the_blocking_check(world, stocked):
    web = world.web("nurse")
    url = f"/patients/{world.patient_a.id}/visits"
    page = web.get(url)
    r = web.post(
        url,
        data={
            **_form(stocked, lot_id_0=str(stocked.expired_lot.id)),
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 422
    assert "lot.expired" in r.text


def test_form_with_invalid_input_keeps_values_and_names_the_field(world, stocked):
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/visits"
    page = web.get(url)
    r = web.post(
        url, data={**_form(stocked, zones=[], points="0"), "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 422
    assert 'aria-invalid="true" aria-describedby="e-points"' in r.text


def test_visit_can_be_marked_entered_in_error(world, stocked, visit_body):
    created = (
        world.client("clinician")
        .post(
            "/api/v1/visits",
            json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
        )
        .json()
    )
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/visits/{created['id']}"
    page = web.get(url)
    r = web.post(
        url + "/void", data={"reason": "wrong patient chart", "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 303
    assert "entered in error" in web.get(url).text


def test_patient_sees_own_visits_tab_without_the_form(world, stocked, visit_body):
    world.client("clinician").post(
        "/api/v1/visits",
        json=visit_body(world.patient_a, stocked.vitamin_cocktail, stocked.vitamin_lot),
    )
    web = world.web("patient")
    page = web.get(f"/patients/{world.patient_a.id}/visits")
    assert page.status_code == 200
    assert "Standard vitamin cocktail" in page.text and "Record a visit" not in page.text
    other = world.client("patient").get(f"/api/v1/patients/{world.other_patient_a.id}/visits")
    assert other.status_code == 404


def test_reception_has_no_visits_tab(world, stocked):
    page = world.web("reception").get(f"/patients/{world.patient_a.id}")
    assert f'/patients/{world.patient_a.id}/visits"' not in page.text


def test_reception_gets_403_on_the_visits_tab(world, stocked):
    assert world.web("reception").get(f"/patients/{world.patient_a.id}/visits").status_code == 403
