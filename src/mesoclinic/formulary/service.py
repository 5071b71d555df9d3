"""Formulary use cases: ingredients, cocktail recipes and products. Services flush only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesoclinic.errors import Conflict, InvalidInput, NotFound
from mesoclinic.formulary import stock
from mesoclinic.formulary.allergens import IngredientFacts
from mesoclinic.formulary.models import Cocktail, CocktailLine, Ingredient, Product
from mesoclinic.formulary.schemas import CocktailCreate, IngredientCreate, ProductCreate
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission


def list_ingredients(session: Session, actor: Actor) -> Sequence[Ingredient]:
    actor.require(Permission.FORMULARY_READ)
    return (
        session.execute(select(Ingredient).order_by(Ingredient.category, Ingredient.name))
        .scalars()
        .all()
    )


def create_ingredient(session: Session, actor: Actor, data: IngredientCreate) -> Ingredient:
    """Add an ingredient; names are unique (case-insensitive)."""
    actor.require(Permission.FORMULARY_WRITE)
    taken = session.execute(
        select(Ingredient.id).where(func.lower(Ingredient.name) == data.name.lower())
    ).first()
    if taken:
        raise Conflict(f"An ingredient named {data.name!r} already exists", "name")
    ingredient = Ingredient(
        name=data.name,
        category=data.category,
        prescription_only=data.prescription_only,
        aliases=[a.lower() for a in data.aliases],
        created_by=actor.username,
    )
    session.add(ingredient)
    session.flush()
    audit.record(
        session, actor, "create", "ingredient", ingredient.id, detail={"name": ingredient.name}
    )
    return ingredient


def list_cocktails(session: Session, actor: Actor) -> Sequence[Cocktail]:
    actor.require(Permission.FORMULARY_READ)
    return session.execute(select(Cocktail).order_by(Cocktail.name)).scalars().all()


def get_cocktail(session: Session, cocktail_id: uuid.UUID, field: str = "cocktail_id") -> Cocktail:
    cocktail = session.get(Cocktail, cocktail_id)
    if cocktail is None:
        raise NotFound("Cocktail not found", field)
    return cocktail


def cocktail_named(session: Session, name: str) -> Cocktail | None:
    """The cocktail a protocol names, if the formulary holds one by that name."""
    return session.execute(select(Cocktail).where(Cocktail.name == name)).scalars().first()


def ingredient_facts(cocktail: Cocktail) -> tuple[IngredientFacts, ...]:
    """A cocktail's ingredients as the pure allergy and prescription rules take them."""
    return tuple(
        IngredientFacts(
            line.ingredient.name, line.ingredient.prescription_only, tuple(line.ingredient.aliases)
        )
        for line in cocktail.lines
    )


def create_cocktail(session: Session, actor: Actor, data: CocktailCreate) -> Cocktail:
    """Add a recipe: every line names an existing ingredient with its concentration."""
    actor.require(Permission.FORMULARY_WRITE)
    if session.execute(
        select(Cocktail.id).where(func.lower(Cocktail.name) == data.name.lower())
    ).first():
        raise Conflict(f"A cocktail named {data.name!r} already exists", "name")
    cocktail = Cocktail(
        name=data.name,
        description=data.description,
        total_volume_ml=data.total_volume_ml,
        created_by=actor.username,
    )
    for position, line in enumerate(data.lines):
        if session.get(Ingredient, line.ingredient_id) is None:
            raise InvalidInput("Unknown ingredient in the recipe", "lines")
        cocktail.lines.append(
            CocktailLine(
                ingredient_id=line.ingredient_id,
                concentration=line.concentration,
                unit=line.unit,
                position=position,
            )
        )
    session.add(cocktail)
    session.flush()
    session.refresh(cocktail)
    audit.record(
        session,
        actor,
        "create",
        "cocktail",
        cocktail.id,
        detail={"name": cocktail.name, "lines": len(data.lines)},
    )
    return cocktail


def list_products(session: Session, actor: Actor) -> Sequence[Product]:
    actor.require(Permission.FORMULARY_READ)
    return (
        session.execute(select(Product).order_by(Product.manufacturer, Product.name))
        .scalars()
        .all()
    )


def create_product(session: Session, actor: Actor, data: ProductCreate) -> Product:
    """Add a product: a manufacturer's presentation of one recipe."""
    actor.require(Permission.FORMULARY_WRITE)
    get_cocktail(session, data.cocktail_id)
    if session.execute(
        select(Product.id).where(
            Product.manufacturer == data.manufacturer, Product.name == data.name
        )
    ).first():
        raise Conflict("This manufacturer already has a product with that name", "name")
    product = Product(
        name=data.name,
        manufacturer=data.manufacturer,
        presentation=data.presentation,
        cocktail_id=data.cocktail_id,
        low_stock_threshold_ul=stock.ul(data.low_stock_threshold_ml),
        created_by=actor.username,
    )
    session.add(product)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "product",
        product.id,
        detail={"name": product.name, "manufacturer": product.manufacturer},
    )
    return product
