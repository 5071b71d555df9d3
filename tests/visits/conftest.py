"""A small formulary and stock in clinic A, and a consented patient, for the visit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mesoclinic.db import unit_of_work
from mesoclinic.formulary import service as formulary_service
from mesoclinic.formulary import stock
from mesoclinic.formulary.schemas import (
    CocktailCreate,
    CocktailLineIn,
    IngredientCreate,
    LotReceive,
    ProductCreate,
)
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients.schemas import ConsentCreate
from mesoclinic.security.actor import cli_actor


@dataclass
class Stock:
    vitamin_cocktail: Any
    dutasteride_cocktail: Any
    vitamin_lot: Any
    expired_lot: Any
    dutasteride_lot: Any
    small_lot: Any


def _ingredient(
    s: Any, actor: Any, name: str, category: str, rx: bool = False, aliases: tuple[str, ...] = ()
) -> Any:
    return formulary_service.create_ingredient(
        s,
        actor,
        IngredientCreate(name=name, category=category, prescription_only=rx, aliases=list(aliases)),
    )


def _lot(
    s: Any, actor: Any, clinic: Any, product: Any, batch: str, ml: float, expires: date
) -> Any:
    lot = stock.receive(
        s,
        actor,
        LotReceive(
            product_id=product.id,
            batch_number=batch,
            expires_on=max(expires, date.today()),
            quantity_ml=ml,
        ),
        clinic.id,
    )
    lot.expires_on = expires  # time has passed since it was received
    return lot


@pytest.fixture
def stocked(world: Any) -> Stock:
    """Vitamin and dutasteride cocktails with lots in clinic A; patient A has consented."""
    actor = cli_actor("test-setup")
    today = date.today()
    with unit_of_work(world.db.factory) as s:
        biotin = _ingredient(s, actor, "biotin", "vitamin", aliases=("vitamin b7",))
        panthenol = _ingredient(s, actor, "dexpanthenol", "vitamin")
        duta = _ingredient(s, actor, "dutasteride", "drug", rx=True)
        vit = formulary_service.create_cocktail(
            s,
            actor,
            CocktailCreate(
                name="Standard vitamin cocktail",
                total_volume_ml=5,
                lines=[
                    CocktailLineIn(ingredient_id=biotin.id, concentration=0.5, unit="mg/mL"),
                    CocktailLineIn(ingredient_id=panthenol.id, concentration=5, unit="mg/mL"),
                ],
            ),
        )
        dut = formulary_service.create_cocktail(
            s,
            actor,
            CocktailCreate(
                name="Dutasteride 0.01 %",
                total_volume_ml=2,
                lines=[CocktailLineIn(ingredient_id=duta.id, concentration=0.01, unit="%")],
            ),
        )
        vit_p = formulary_service.create_product(
            s,
            actor,
            ProductCreate(
                name="Vita-Hair 5 mL",
                manufacturer="Acme Pharma",
                presentation="5 x 5 mL vials",
                cocktail_id=vit.id,
            ),
        )
        dut_p = formulary_service.create_product(
            s,
            actor,
            ProductCreate(
                name="Duta-Meso 2 mL",
                manufacturer="Acme Pharma",
                presentation="10 x 2 mL vials",
                cocktail_id=dut.id,
            ),
        )
        clinic = world.clinic_a
        result = Stock(
            vit,
            dut,
            _lot(s, actor, clinic, vit_p, "VH-100", 50, today + timedelta(days=200)),
            _lot(s, actor, clinic, vit_p, "VH-OLD", 10, today - timedelta(days=2)),
            _lot(s, actor, clinic, dut_p, "DM-7", 20, today + timedelta(days=200)),
            _lot(s, actor, clinic, vit_p, "VH-LAST", 3, today + timedelta(days=100)),
        )
        for p in (world.patient_a, world.other_patient_a):
            consent_service.sign(
                s,
                actor,
                p.id,
                ConsentCreate(
                    procedure="mesotherapy",
                    signed_by="Ana Silva",
                    signed_at=datetime.now(UTC) - timedelta(days=10),
                ),
            )
    return result


def _visit_body(patient: Any, cocktail: Any, lot: Any, **overrides: Any) -> dict[str, Any]:
    """A typical, safe visit: 3 mL in 60 points of 0.05 mL at 1.5 mm."""
    body: dict[str, Any] = {
        "patient_id": str(patient.id),
        "performed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "cocktail_id": str(cocktail.id),
        "lots": [{"lot_id": str(lot.id), "volume_ml": 3}],
        "technique": "point_by_point",
        "zones": ["vertex", "mid_scalp"],
        "depth_mm": 1.5,
        "points": 60,
        "volume_per_point_ml": 0.05,
        "total_volume_ml": 3,
        "needle_gauge": 30,
        "needle_length_mm": 4,
        "pain_score": 3,
        "adverse_events": [{"type": "none"}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def visit_body() -> Any:
    """Build a visit request body: visit_body(patient, cocktail, lot, **overrides)."""
    return _visit_body
