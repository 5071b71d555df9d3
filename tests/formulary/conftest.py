"""A product (with its ingredient and cocktail) made through the API, for the stock tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def product(world: Any) -> dict[str, Any]:
    c = world.client("clinician")
    ing = c.post(
        "/api/v1/formulary/ingredients", json={"name": "biotin", "category": "vitamin"}
    ).json()
    cocktail = c.post(
        "/api/v1/formulary/cocktails",
        json={
            "name": "Vit",
            "total_volume_ml": 5,
            "lines": [{"ingredient_id": ing["id"], "concentration": 1, "unit": "mg/mL"}],
        },
    ).json()
    return c.post(
        "/api/v1/formulary/products",
        json={
            "name": "Vit 5 mL",
            "manufacturer": "Acme",
            "presentation": "10 x 5 mL",
            "cocktail_id": cocktail["id"],
            "low_stock_threshold_ml": 10,
        },
    ).json()
