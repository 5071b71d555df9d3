"""API schemas for the formulary (ingredients, cocktails, products) and stock (lots)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AliasPath, Field, field_validator

from mesoclinic.schemas_common import LongText, ReadSchema, Reason, Schema, ShortText

IngredientCategory = Literal["vitamin", "mineral", "amino_acid", "drug", "other"]
Millilitres = Annotated[float, Field(gt=0, le=100_000)]


class IngredientCreate(Schema):
    name: ShortText
    category: IngredientCategory
    prescription_only: bool = False
    aliases: list[ShortText] = Field(default_factory=list, max_length=10)

    @field_validator("name")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class IngredientRead(ReadSchema):
    id: uuid.UUID
    name: str
    category: str
    prescription_only: bool
    alias_list: list[str] = Field(validation_alias="aliases")


class CocktailLineIn(Schema):
    ingredient_id: uuid.UUID
    concentration: Annotated[float, Field(gt=0, le=1_000_000)]
    unit: Annotated[str, Field(min_length=1, max_length=20)]


class CocktailCreate(Schema):
    name: ShortText
    description: LongText | None = None
    total_volume_ml: Annotated[float, Field(gt=0, le=1000)]
    lines: list[CocktailLineIn] = Field(min_length=1, max_length=30)

    @field_validator("lines")
    @classmethod
    def _distinct(cls, lines: list[CocktailLineIn]) -> list[CocktailLineIn]:
        ids = [line.ingredient_id for line in lines]
        if len(ids) != len(set(ids)):
            raise ValueError("an ingredient appears twice in the recipe")
        return lines


class CocktailLineRead(ReadSchema):
    ingredient: IngredientRead
    concentration: float
    unit: str


class CocktailRead(ReadSchema):
    id: uuid.UUID
    name: str
    description: str | None
    total_volume_ml: float
    prescription_only: bool
    lines: list[CocktailLineRead]


class ProductCreate(Schema):
    name: ShortText
    manufacturer: ShortText
    presentation: ShortText
    cocktail_id: uuid.UUID
    low_stock_threshold_ml: Annotated[float, Field(ge=0, le=100_000)] = 10


class ProductRead(ReadSchema):
    id: uuid.UUID
    name: str
    manufacturer: str
    presentation: str
    cocktail_id: uuid.UUID
    cocktail_name: str = Field(validation_alias=AliasPath("cocktail", "name"))
    low_stock_threshold_ml: float


class LotReceive(Schema):
    product_id: uuid.UUID
    batch_number: Annotated[str, Field(min_length=1, max_length=60)]
    expires_on: date
    quantity_ml: Millilitres


class StockChange(Schema):
    """Waste (quantity > 0 leaves the lot) or adjustment (signed) with a reason."""

    quantity_ml: Annotated[float, Field(ge=-100_000, le=100_000)]
    reason: Annotated[str, Field(min_length=3, max_length=500)]

    @field_validator("quantity_ml")
    @classmethod
    def _not_zero(cls, value: float) -> float:
        if round(value * 1000) == 0:
            raise ValueError("must not be zero")
        return value


class LotRecall(Schema):
    reason: Reason


class LotRead(ReadSchema):
    id: uuid.UUID
    clinic_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str = Field(validation_alias=AliasPath("product", "name"))
    manufacturer: str = Field(validation_alias=AliasPath("product", "manufacturer"))
    batch_number: str
    expires_on: date
    quantity_received_ml: float
    balance_ml: float
    received_at: datetime
    recalled_at: datetime | None
    recall_reason: str | None


class MovementRead(ReadSchema):
    id: uuid.UUID
    kind: str
    quantity_ml: float
    balance_after_ml: float
    visit_id: uuid.UUID | None
    reason: str | None
    at: datetime
    by: str


class StockAlert(Schema):
    kind: Literal["recalled", "expiring", "expired", "low_stock"]
    message: str
    lot_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None


class Recipient(Schema):
    visit_id: uuid.UUID
    performed_at: datetime
    patient_id: uuid.UUID
    record_number: str
    patient_name: str
    phone: str | None
    email: str | None
    volume_ml: float
    visit_status: str
