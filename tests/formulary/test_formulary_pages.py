"""Staff pages: formulary forms, stock receive/waste/recall forms, dashboard panel, nav."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from mesoclinic.formulary.models import Cocktail, Ingredient, Lot, Product
from support import csrf_from


def _post(web: Any, page_url: str, url: str, data: dict[str, Any]) -> Any:
    token = csrf_from(web.get(page_url).text)
    return web.post(url, data={**data, "csrf_token": token})


def test_clinician_adds_ingredient_cocktail_and_product_through_forms(world):
    web = world.web("clinician")
    r = _post(
        web,
        "/formulary",
        "/formulary/ingredients",
        {"name": "Biotin", "category": "vitamin", "aliases": "vitamin b7, vitamin h"},
    )
    assert r.status_code == 303
    with world.db.factory() as s:
        biotin = s.execute(select(Ingredient)).scalar_one()
        assert biotin.aliases == ["vitamin b7", "vitamin h"]
    r = _post(
        web,
        "/formulary",
        "/formulary/cocktails",
        {
            "name": "Vit",
            "total_volume_ml": "5",
            "ingredient_id_0": str(biotin.id),
            "concentration_0": "0.5",
            "unit_0": "mg/mL",
        },
    )
    assert r.status_code == 303
    with world.db.factory() as s:
        cocktail = s.execute(select(Cocktail)).scalar_one()
    r = _post(
        web,
        "/formulary",
        "/formulary/products",
        {
            "name": "Vit 5",
            "manufacturer": "Acme",
            "presentation": "5 mL vials",
            "cocktail_id": str(cocktail.id),
            "low_stock_threshold_ml": "10",
        },
    )
    assert r.status_code == 303
    page = web.get("/formulary").text
    assert "Vit 5" in page and "biotin 0.5 mg/mL" in page


def test_invalid_cocktail_form_keeps_input_and_shows_error(world):
    web = world.web("clinician")
    r = _post(web, "/formulary", "/formulary/cocktails", {"name": "Empty", "total_volume_ml": "5"})
    assert r.status_code == 422 and "Recipe:" in r.text and 'value="Empty"' in r.text


def test_nurse_sees_formulary_without_edit_forms(world):
    page = world.web("nurse").get("/formulary")
    assert page.status_code == 200 and "Add an ingredient" not in page.text
    assert 'href="/stock"' in page.text


def test_nurse_receives_wastes_and_recalls_a_lot_through_forms(world, product):
    web = world.web("nurse")
    expiry = (date.today() + timedelta(days=15)).isoformat()
    r = _post(
        web,
        "/stock",
        "/stock/lots",
        {
            "product_id": product["id"],
            "batch_number": "Z-1",
            "expires_on": expiry,
            "quantity_ml": "20",
        },
    )
    assert r.status_code == 303
    lot_url = r.headers["location"]
    r = _post(web, lot_url, lot_url + "/waste", {"quantity_ml": "2", "reason": "dropped"})
    assert r.status_code == 303
    r = _post(web, lot_url, lot_url + "/waste", {"quantity_ml": "50", "reason": "too much"})
    assert r.status_code == 422 and "below zero" in r.text
    with world.db.factory() as s:
        assert s.execute(select(Lot)).scalar_one().balance_ul == 18_000
    stock_page = web.get("/stock").text
    assert "Z-1" in stock_page and "expiring" in stock_page
    assert "Stock alerts" in web.get("/").text
    r = _post(web, lot_url, lot_url + "/recall", {"reason": "manufacturer notice"})
    assert r.status_code == 303 and r.headers["location"].endswith("/recipients")
    assert "recalled" in web.get(lot_url).text


def test_invalid_receive_form_names_the_field(world, product):
    web = world.web("nurse")
    r = _post(
        web,
        "/stock",
        "/stock/lots",
        {
            "product_id": product["id"],
            "batch_number": "Z",
            "expires_on": "soon",
            "quantity_ml": "2",
        },
    )
    assert r.status_code == 422 and 'aria-describedby="e-expires_on"' in r.text
    with world.db.factory() as s:
        assert s.execute(select(Lot)).first() is None
        assert s.execute(select(Product)).scalar_one()


def test_pages_refuse_roles_without_permission(world):
    nurse = world.web("nurse")
    r = _post(nurse, "/formulary", "/formulary/ingredients", {"name": "x", "category": "other"})
    assert r.status_code == 403
    reception = world.web("reception")
    assert reception.get("/stock").status_code == 403
    assert reception.get("/formulary").status_code == 403
    assert 'href="/stock"' not in reception.get("/").text
    assert world.web("patient").get("/stock").status_code == 403
