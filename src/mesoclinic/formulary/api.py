"""JSON routes for the formulary, lots, stock movements, recalls and stock alerts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from mesoclinic.formulary import service, stock
from mesoclinic.formulary.recall_report import recipients_csv
from mesoclinic.formulary.schemas import (
    CocktailCreate,
    CocktailRead,
    IngredientCreate,
    IngredientRead,
    LotRead,
    LotRecall,
    LotReceive,
    MovementRead,
    ProductCreate,
    ProductRead,
    Recipient,
    StockAlert,
    StockChange,
)
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, SettingsDep, created_once
from mesoclinic.security.permissions import Permission
from mesoclinic.visits.recipients import recipients_of_lot

router = APIRouter(prefix="/api/v1", tags=["formulary"])


Reader = Annotated[Actor, Allowed(Permission.FORMULARY_READ)]
Editor = Annotated[Actor, Allowed(Permission.FORMULARY_WRITE)]
Stocker = Annotated[Actor, Allowed(Permission.STOCK_WRITE)]


@router.get("/formulary/ingredients", response_model=list[IngredientRead])
def list_ingredients(session: DbSession, actor: Reader) -> list[IngredientRead]:
    return [IngredientRead.model_validate(i) for i in service.list_ingredients(session, actor)]


@router.post("/formulary/ingredients", response_model=IngredientRead, status_code=201)
def create_ingredient(
    body: IngredientCreate, session: DbSession, actor: Editor, once: Idempotency
) -> Response:
    def make() -> tuple[IngredientRead, str]:
        return IngredientRead.model_validate(service.create_ingredient(session, actor, body)), ""

    return created_once(session, actor, once, make)


@router.get("/formulary/cocktails", response_model=list[CocktailRead])
def list_cocktails(session: DbSession, actor: Reader) -> list[CocktailRead]:
    return [CocktailRead.model_validate(c) for c in service.list_cocktails(session, actor)]


@router.get("/formulary/cocktails/{cocktail_id}", response_model=CocktailRead)
def get_cocktail(cocktail_id: uuid.UUID, session: DbSession, actor: Reader) -> CocktailRead:
    return CocktailRead.model_validate(service.get_cocktail(session, cocktail_id, "id"))


@router.post("/formulary/cocktails", response_model=CocktailRead, status_code=201)
def create_cocktail(
    body: CocktailCreate, session: DbSession, actor: Editor, once: Idempotency
) -> Response:
    """Add a recipe: ingredients with concentration and unit, and the total volume."""

    def make() -> tuple[CocktailRead, str]:
        cocktail = service.create_cocktail(session, actor, body)
        return CocktailRead.model_validate(cocktail), f"/api/v1/formulary/cocktails/{cocktail.id}"

    return created_once(session, actor, once, make)


@router.get("/formulary/products", response_model=list[ProductRead])
def list_products(session: DbSession, actor: Reader) -> list[ProductRead]:
    return [ProductRead.model_validate(p) for p in service.list_products(session, actor)]


@router.post("/formulary/products", response_model=ProductRead, status_code=201)
def create_product(
    body: ProductCreate, session: DbSession, actor: Editor, once: Idempotency
) -> Response:
    def make() -> tuple[ProductRead, str]:
        return ProductRead.model_validate(service.create_product(session, actor, body)), ""

    return created_once(session, actor, once, make)


@router.get("/lots", response_model=list[LotRead], tags=["stock"])
def list_lots(session: DbSession, actor: Reader, include_empty: bool = True) -> list[LotRead]:
    """The clinic's lots, soonest expiry first."""
    return [
        LotRead.model_validate(lot)
        for lot in stock.list_lots(session, actor, include_empty=include_empty)
    ]


@router.post("/lots", response_model=LotRead, status_code=201, tags=["stock"])
def receive_lot(
    body: LotReceive,
    session: DbSession,
    actor: Stocker,
    once: Idempotency,
    clinic_id: uuid.UUID | None = None,
) -> Response:
    """Receive a delivered lot (a group admin passes `clinic_id`)."""

    def make() -> tuple[LotRead, str]:
        lot = stock.receive(session, actor, body, clinic_id)
        return LotRead.model_validate(lot), f"/api/v1/lots/{lot.id}"

    return created_once(session, actor, once, make)


@router.get("/lots/{lot_id}", response_model=LotRead, tags=["stock"])
def get_lot(lot_id: uuid.UUID, session: DbSession, actor: Reader) -> LotRead:
    return LotRead.model_validate(stock.get_lot(session, actor, lot_id))


@router.get("/lots/{lot_id}/movements", response_model=list[MovementRead], tags=["stock"])
def lot_movements(lot_id: uuid.UUID, session: DbSession, actor: Reader) -> list[MovementRead]:
    return [MovementRead.model_validate(m) for m in stock.movements(session, actor, lot_id)]


@router.post("/lots/{lot_id}/waste", response_model=LotRead, tags=["stock"])
def waste_lot(
    lot_id: uuid.UUID, body: StockChange, session: DbSession, actor: Stocker, once: Idempotency
) -> Response:
    """Record wasted stock (a movement); once per `Idempotency-Key`."""

    def make() -> tuple[LotRead, str]:
        return LotRead.model_validate(stock.waste(session, actor, lot_id, body)), ""

    return created_once(session, actor, once, make, status_code=200)


@router.post("/lots/{lot_id}/adjust", response_model=LotRead, tags=["stock"])
def adjust_lot(
    lot_id: uuid.UUID, body: StockChange, session: DbSession, actor: Stocker, once: Idempotency
) -> Response:
    """Record a stock-count adjustment (a movement); once per `Idempotency-Key`."""

    def make() -> tuple[LotRead, str]:
        return LotRead.model_validate(stock.adjust(session, actor, lot_id, body)), ""

    return created_once(session, actor, once, make, status_code=200)


@router.post("/lots/{lot_id}/recall", response_model=LotRead, tags=["stock"])
def recall_lot(lot_id: uuid.UUID, body: LotRecall, session: DbSession, actor: Stocker) -> LotRead:
    """Mark a lot recalled; later visits refuse it."""
    return LotRead.model_validate(stock.recall(session, actor, lot_id, body.reason))


@router.get("/lots/{lot_id}/recipients", response_model=list[Recipient], tags=["stock"])
def lot_recipients(lot_id: uuid.UUID, session: DbSession, actor: Reader) -> list[Recipient]:
    """Every patient and visit that received the lot (audited as an export)."""
    return recipients_of_lot(session, actor, lot_id)


@router.get(
    "/lots/{lot_id}/recipients.csv", tags=["stock"], responses={200: {"content": {"text/csv": {}}}}
)
def lot_recipients_csv(lot_id: uuid.UUID, session: DbSession, actor: Reader) -> Response:
    rows = recipients_of_lot(session, actor, lot_id)
    return Response(
        recipients_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="lot-{lot_id}-recipients.csv"'},
    )


@router.get("/stock/alerts", response_model=list[StockAlert], tags=["stock"])
def stock_alerts(session: DbSession, actor: Reader, settings: SettingsDep) -> list[StockAlert]:
    """Lots expired or expiring within the alert window, and products below threshold."""
    return stock.alerts(session, actor, expiry_alert_days=settings.stock_expiry_alert_days)
