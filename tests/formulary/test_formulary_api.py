"""Formulary API: ingredients, cocktails and products; roles, validation and conflicts."""

from __future__ import annotations

from typing import Any

import pytest


def _ingredient(c: Any, name: str, category: str = "vitamin", rx: bool = False) -> Any:
    r = c.post(
        "/api/v1/formulary/ingredients",
        json={"name": name, "category": category, "prescription_only": rx},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_clinician_builds_a_recipe_and_a_product(world):
    c = world.client("clinician")
    biotin = _ingredient(c, "Biotin")
    duta = _ingredient(c, "dutasteride", "drug", rx=True)
    r = c.post(
        "/api/v1/formulary/cocktails",
        json={
            "name": "Mix",
            "total_volume_ml": 5,
            "lines": [
                {"ingredient_id": biotin["id"], "concentration": 0.5, "unit": "mg/mL"},
                {"ingredient_id": duta["id"], "concentration": 0.01, "unit": "%"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    cocktail = r.json()
    assert cocktail["prescription_only"] is True
    assert [line["ingredient"]["name"] for line in cocktail["lines"]] == ["biotin", "dutasteride"]
    p = c.post(
        "/api/v1/formulary/products",
        json={
            "name": "Mix 5 mL",
            "manufacturer": "Acme",
            "presentation": "5 x 5 mL",
            "cocktail_id": cocktail["id"],
            "low_stock_threshold_ml": 20,
        },
    )
    assert p.status_code == 201 and p.json()["cocktail_name"] == "Mix"
    assert len(world.client("nurse").get("/api/v1/formulary/products").json()) == 1


def test_duplicate_ingredient_is_a_conflict(world):
    c = world.client("clinician")
    _ingredient(c, "zinc", "mineral")
    r = c.post("/api/v1/formulary/ingredients", json={"name": "Zinc", "category": "mineral"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "name"


def test_recipe_with_unknown_ingredient_is_refused_and_nothing_stored(world):
    c = world.client("clinician")
    r = c.post(
        "/api/v1/formulary/cocktails",
        json={
            "name": "Bad",
            "total_volume_ml": 5,
            "lines": [
                {
                    "ingredient_id": "00000000-0000-4000-8000-00000000abcd",
                    "concentration": 1,
                    "unit": "%",
                }
            ],
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "lines"
    assert c.get("/api/v1/formulary/cocktails").json() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "category": "spice"}, "category"),
        ({"name": "", "category": "vitamin"}, "name"),
        ({"name": "x", "category": "vitamin", "colour": "red"}, "colour"),
    ],
)
def test_invalid_ingredient_names_the_field(world, body, field):
    r = world.client("clinician").post("/api/v1/formulary/ingredients", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == field


@pytest.mark.parametrize(
    "persona, status", [("nurse", 403), ("reception", 403), ("patient", 403), ("admin", 201)]
)
def test_only_clinicians_and_admins_edit_the_formulary(world, persona, status):
    r = world.client(persona).post(
        "/api/v1/formulary/ingredients", json={"name": "glycine", "category": "amino_acid"}
    )
    assert r.status_code == status


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/formulary/ingredients",
        "/api/v1/formulary/cocktails",
        "/api/v1/formulary/products",
        "/api/v1/lots",
        "/api/v1/stock/alerts",
    ],
)
def test_formulary_reads_need_staff(world, anon, path):
    assert anon.get(path).status_code == 401
    assert world.client("reception").get(path).status_code == 403
    assert world.client("patient").get(path).status_code == 403
    assert world.client("nurse").get(path).status_code == 200
