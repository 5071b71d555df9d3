"""Formulary tables: ingredients, cocktail recipes, products, lots and stock movements.

Volumes in stock are whole microlitres (`*_ul`) so balances add up exactly on every database;
the API shows millilitres.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mesoclinic.db import Base, UUIDPrimaryKey, utcnow

INGREDIENT_CATEGORIES = ("vitamin", "mineral", "amino_acid", "drug", "other")


class Ingredient(UUIDPrimaryKey, Base):
    """A substance that can appear in a cocktail; allergies are matched on name and aliases."""

    __tablename__ = "ingredients"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    prescription_only: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")


class Cocktail(UUIDPrimaryKey, Base):
    """A recipe: ingredients with concentrations, made up to a total volume."""

    __tablename__ = "cocktails"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    total_volume_ml: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    lines: Mapped[list[CocktailLine]] = relationship(
        back_populates="cocktail",
        order_by="CocktailLine.position",
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    @property
    def prescription_only(self) -> bool:
        return any(line.ingredient.prescription_only for line in self.lines)


class CocktailLine(UUIDPrimaryKey, Base):
    __tablename__ = "cocktail_lines"
    __table_args__ = (
        UniqueConstraint("cocktail_id", "ingredient_id", name="uq_cocktail_lines_ingredient"),
    )

    cocktail_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cocktails.id"), index=True)
    ingredient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingredients.id"))
    concentration: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))  # %, mg/mL, mg, IU/mL
    position: Mapped[int] = mapped_column(Integer, default=0)

    cocktail: Mapped[Cocktail] = relationship(back_populates="lines")
    ingredient: Mapped[Ingredient] = relationship(lazy="joined")


class Product(UUIDPrimaryKey, Base):
    """A commercial presentation of one recipe (what a lot is a batch of)."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("manufacturer", "name", name="uq_products_manufacturer_name"),
    )

    name: Mapped[str] = mapped_column(String(120))
    manufacturer: Mapped[str] = mapped_column(String(120))
    presentation: Mapped[str] = mapped_column(String(120))  # e.g. "5 x 5 mL vials"
    cocktail_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cocktails.id"), index=True)
    low_stock_threshold_ul: Mapped[int] = mapped_column(Integer, default=10_000)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    cocktail: Mapped[Cocktail] = relationship(lazy="joined")

    @property
    def low_stock_threshold_ml(self) -> float:
        return self.low_stock_threshold_ul / 1000


class Lot(UUIDPrimaryKey, Base):
    """One batch of a product held by a clinic; the balance never goes negative."""

    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint(
            "clinic_id", "product_id", "batch_number", name="uq_lots_clinic_product_batch"
        ),
        CheckConstraint("balance_ul >= 0", name="balance_not_negative"),
        CheckConstraint("quantity_received_ul > 0", name="received_positive"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    batch_number: Mapped[str] = mapped_column(String(60))
    expires_on: Mapped[date]
    quantity_received_ul: Mapped[int] = mapped_column(Integer)
    balance_ul: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by: Mapped[str] = mapped_column(String(80), default="")
    recalled_at: Mapped[datetime | None]
    recall_reason: Mapped[str | None] = mapped_column(Text)
    recalled_by: Mapped[str | None] = mapped_column(String(80))

    product: Mapped[Product] = relationship(lazy="joined")

    @property
    def quantity_received_ml(self) -> float:
        return self.quantity_received_ul / 1000

    @property
    def balance_ml(self) -> float:
        return self.balance_ul / 1000


class StockMovement(UUIDPrimaryKey, Base):
    """One change to a lot's balance (signed microlitres) and the balance after it."""

    __tablename__ = "stock_movements"

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # received | used | wasted | adjusted
    quantity_ul: Mapped[int] = mapped_column(Integer)
    balance_after_ul: Mapped[int] = mapped_column(Integer)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(80), default="")

    @property
    def quantity_ml(self) -> float:
        return self.quantity_ul / 1000

    @property
    def balance_after_ml(self) -> float:
        return self.balance_after_ul / 1000
