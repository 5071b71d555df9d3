"""Demo formulary: the seed ingredients, five cocktails, products and lots.

The ingredients are the seed list of docs/clinical-sources.md#formulary.

Concentrations of vitamins and minerals are product-specific; the demo recipes are labelled
illustrative so nobody copies them into practice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.demo.seed import MAIN_CLINIC, SECOND_CLINIC, DemoContext
from mesoclinic.formulary import service, stock
from mesoclinic.formulary.schemas import (
    CocktailCreate,
    CocktailLineIn,
    IngredientCreate,
    LotReceive,
    ProductCreate,
)

INGREDIENTS = [  # name, category, prescription only, aliases
    ("biotin", "vitamin", False, ("vitamin b7", "vitamin h")),
    ("dexpanthenol", "vitamin", False, ("panthenol", "vitamin b5")),
    ("niacinamide", "vitamin", False, ("nicotinamide", "vitamin b3")),
    ("pyridoxine", "vitamin", False, ("vitamin b6",)),
    ("folic acid", "vitamin", False, ("folate", "vitamin b9")),
    ("vitamin c", "vitamin", False, ("ascorbic acid",)),
    ("zinc", "mineral", False, ("zinc gluconate",)),
    ("copper peptides", "mineral", False, ("ghk-cu",)),
    ("iron", "mineral", False, ()),
    ("organic silicon", "mineral", False, ("silicium",)),
    ("selenium", "mineral", False, ()),
    ("magnesium", "mineral", False, ()),
    ("l-cysteine", "amino_acid", False, ("cysteine",)),
    ("l-methionine", "amino_acid", False, ("methionine",)),
    ("l-lysine", "amino_acid", False, ("lysine",)),
    ("l-arginine", "amino_acid", False, ("arginine",)),
    ("glycine", "amino_acid", False, ()),
    ("hyaluronic acid", "other", False, ("sodium hyaluronate",)),
    ("coenzyme q10", "other", False, ("ubiquinone",)),
    ("acetyl tetrapeptide-3", "other", False, ()),
    ("biochanin a", "other", False, ()),
    ("dutasteride", "drug", True, ()),
    ("finasteride", "drug", True, ()),
    ("minoxidil", "drug", True, ()),
]
ILLUSTRATIVE = "Demo recipe: concentrations are illustrative; use your product's label."
COCKTAILS: list[tuple[str, str, float, list[tuple[str, float, str]]]] = [
    (
        "Standard vitamin cocktail",
        ILLUSTRATIVE,
        5,
        [
            ("biotin", 0.2, "mg/mL"),
            ("dexpanthenol", 10, "mg/mL"),
            ("zinc", 0.5, "mg/mL"),
            ("l-cysteine", 5, "mg/mL"),
            ("hyaluronic acid", 0.5, "%"),
        ],
    ),
    (
        "Dutasteride 0.01 %",
        "Compounded; men only (avoid pregnancy for 6 months after).",
        2,
        [("dutasteride", 0.01, "%")],
    ),
    ("Minoxidil 0.5 %", "Compounded intradermal minoxidil.", 2, [("minoxidil", 0.5, "%")]),
    (
        "Peptide and copper cocktail",
        ILLUSTRATIVE,
        5,
        [
            ("copper peptides", 1, "mg/mL"),
            ("acetyl tetrapeptide-3", 0.5, "mg/mL"),
            ("biochanin a", 0.2, "mg/mL"),
            ("hyaluronic acid", 0.5, "%"),
        ],
    ),
    (
        "Amino acid and mineral cocktail (biotin-free)",
        ILLUSTRATIVE,
        5,
        [
            ("l-methionine", 5, "mg/mL"),
            ("l-lysine", 5, "mg/mL"),
            ("l-arginine", 5, "mg/mL"),
            ("glycine", 2, "mg/mL"),
            ("organic silicon", 1, "mg/mL"),
            ("zinc", 0.5, "mg/mL"),
        ],
    ),
]
PRODUCTS = [  # key, name, manufacturer, presentation, cocktail, low-stock threshold mL
    (
        "vitamin",
        "TrichoVital 5 mL",
        "Meso Labs Iberia",
        "10 x 5 mL vials",
        "Standard vitamin cocktail",
        50,
    ),
    (
        "dutasteride",
        "Dutasteride 0.01 % 2 mL",
        "St Mary's Compounding Pharmacy",
        "5 x 2 mL vials",
        "Dutasteride 0.01 %",
        6,
    ),
    (
        "minoxidil",
        "Minoxidil 0.5 % 2 mL",
        "St Mary's Compounding Pharmacy",
        "5 x 2 mL vials",
        "Minoxidil 0.5 %",
        6,
    ),
    (
        "peptide",
        "CuPeptide Hair 5 mL",
        "Capillus Pharma",
        "5 x 5 mL vials",
        "Peptide and copper cocktail",
        10,
    ),
    (
        "amino",
        "AminoHair 5 mL",
        "Capillus Pharma",
        "10 x 5 mL vials",
        "Amino acid and mineral cocktail (biotin-free)",
        20,
    ),
]
# key, product, clinic, batch, days to expiry (from today), mL received, mL kept back from demo
# visits (so the lot still shows its alert afterwards)
LOTS = [
    ("vitamin_old", "vitamin", MAIN_CLINIC, "TV-2512X", -10, 50, 15),
    ("vitamin_recall", "vitamin", MAIN_CLINIC, "TV-2607R", 150, 100, 40),
    ("vitamin_main", "vitamin", MAIN_CLINIC, "TV-2611A", 300, 500, 0),
    ("dutasteride", "dutasteride", MAIN_CLINIC, "DU-2601", 120, 40, 0),
    ("minoxidil", "minoxidil", MAIN_CLINIC, "MX-2603", 90, 40, 0),
    ("peptide", "peptide", MAIN_CLINIC, "CP-2602", 20, 15, 6),
    ("amino", "amino", MAIN_CLINIC, "AH-2604", 240, 100, 0),
    ("vitamin_es", "vitamin", SECOND_CLINIC, "TV-ES-2610", 240, 100, 0),
    ("minoxidil_es", "minoxidil", SECOND_CLINIC, "MX-ES-2605", 180, 20, 0),
]


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """Create the demo formulary and stock; hands lots and cocktails to the visits step."""
    actor = ctx.actor("dr.moreau")
    for name, category, rx, aliases in INGREDIENTS:
        service.create_ingredient(
            session,
            actor,
            IngredientCreate(
                name=name, category=category, prescription_only=rx, aliases=list(aliases)
            ),
        )
    by_name = {i.name: i for i in service.list_ingredients(session, actor)}
    cocktails: dict[str, Any] = {}
    for name, description, total, lines in COCKTAILS:
        cocktails[name] = service.create_cocktail(
            session,
            actor,
            CocktailCreate(
                name=name,
                description=description,
                total_volume_ml=total,
                lines=[
                    CocktailLineIn(ingredient_id=by_name[i].id, concentration=c, unit=u)
                    for i, c, u in lines
                ],
            ),
        )
    products = {
        key: service.create_product(
            session,
            actor,
            ProductCreate(
                name=name,
                manufacturer=maker,
                presentation=presentation,
                cocktail_id=cocktails[cocktail].id,
                low_stock_threshold_ml=threshold,
            ),
        )
        for key, name, maker, presentation, cocktail, threshold in PRODUCTS
    }
    today = ctx.now.date()
    lots: dict[str, tuple[Any, int]] = {}
    for key, product, clinic, batch, expiry_days, ml, reserve_ml in LOTS:
        receiver = ctx.actor("dr.moreau" if clinic == MAIN_CLINIC else "dr.garcia")
        expires = today + timedelta(days=expiry_days)
        lot = stock.receive(
            session,
            receiver,
            LotReceive(
                product_id=products[product].id,
                batch_number=batch,
                expires_on=max(expires, today),
                quantity_ml=ml,
            ),
        )
        # Received months ago: the expired demo lot was still in date then.
        lot.received_at = ctx.now - timedelta(days=130)
        lot.expires_on = expires
        lots[key] = (lot, reserve_ml * 1000)
    ctx.extra["formulary"] = {"cocktails": cocktails, "products": products, "lots": lots}
