"""The stocked world shared by the visit tests, the drills and the multi-server test: two
cocktails (vitamin, dutasteride) with products and lots in clinic A, and consented patients.

`stock_clinic(world)` makes it; tests/visits/conftest.py serves it as the `stocked` fixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
    vitamin_lot: Any  # VH-100: 50 mL, expires in 200 days
    expired_lot: Any  # VH-OLD: expired two days ago
    dutasteride_lot: Any
    small_lot: Any  # VH-LAST: 3 mL left


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


def _product(s: Any, actor: Any, name: str, presentation: str, cocktail: Any) -> Any:
    return formulary_service.create_product(
        s,
        actor,
        ProductCreate(
            name=name,
            manufacturer="Acme Pharma",
            presentation=presentation,
            cocktail_id=cocktail.id,
        ),
    )


def stock_clinic(world: Any, *, consented: tuple[Any, ...] | None = None) -> Stock:
    """Vitamin and dutasteride cocktails with lots in clinic A; the `consented` patients (by
    default patient A and the other clinic A patient) have signed the mesotherapy consent."""
    actor = cli_actor("test-setup")
    today = date.today()
    if consented is None:
        consented = (world.patient_a, world.other_patient_a)
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
        vit_p = _product(s, actor, "Vita-Hair 5 mL", "5 x 5 mL vials", vit)
        dut_p = _product(s, actor, "Duta-Meso 2 mL", "10 x 2 mL vials", dut)
        clinic = world.clinic_a
        result = Stock(
            vit,
            dut,
            _lot(s, actor, clinic, vit_p, "VH-100", 50, today + timedelta(days=200)),
            _lot(s, actor, clinic, vit_p, "VH-OLD", 10, today - timedelta(days=2)),
            _lot(s, actor, clinic, dut_p, "DM-7", 20, today + timedelta(days=200)),
            _lot(s, actor, clinic, vit_p, "VH-LAST", 3, today + timedelta(days=100)),
        )
        for p in consented:
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


def visit_body(patient_id: Any, cocktail_id: Any, lot_id: Any, **overrides: Any) -> dict[str, Any]:
    """A typical, safe visit: 3 mL of one lot in 60 points of 0.05 mL at 1.5 mm."""
    body: dict[str, Any] = {
        "patient_id": str(patient_id),
        "performed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "cocktail_id": str(cocktail_id),
        "lots": [{"lot_id": str(lot_id), "volume_ml": 3}],
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
