"""HTML pages for staff: the formulary (ingredients, products, cocktails) and stock (lots)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.config import get_settings
from mesoclinic.db import utcnow
from mesoclinic.errors import InvalidInput
from mesoclinic.formulary import service, stock
from mesoclinic.formulary.schemas import (
    CocktailCreate,
    IngredientCreate,
    LotRecall,
    LotReceive,
    ProductCreate,
    StockChange,
)
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.deps import get_settings as settings_of
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.visits.recipients import recipients_of_lot
from mesoclinic.web.dashboard import Panel
from mesoclinic.web.forms import PostedForm, form_values, submit_form, validate
from mesoclinic.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
RECIPE_ROWS = 8


def _formulary(
    request: Request,
    session: Session,
    actor: Actor,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "formulary/index.html",
        {
            "ingredients": service.list_ingredients(session, actor),
            "cocktails": service.list_cocktails(session, actor),
            "products": service.list_products(session, actor),
            "form": form,
            "values": values or {},
            "errors": errors or {},
            "recipe_rows": range(RECIPE_ROWS),
        },
        status_code=status_code,
    )


@router.get("/formulary", response_class=HTMLResponse)
def formulary_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_READ)],
) -> Response:
    return _formulary(request, session, actor)


@router.post("/formulary/ingredients", response_class=HTMLResponse)
def add_ingredient(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_WRITE)],
) -> Response:
    values = form_values(form)
    parsed = dict(
        values,
        prescription_only=values.get("prescription_only") == "on",
        aliases=[a.strip() for a in values.get("aliases", "").split(",") if a.strip()],
    )
    data, errors = validate(IngredientCreate, parsed)

    def save(data: IngredientCreate) -> Response:
        ingredient = service.create_ingredient(session, actor, data)
        return redirect("/formulary", f"Ingredient {ingredient.name} added.")

    def show_form(errors: dict[str, str]) -> Response:
        return _formulary(request, session, actor, "ingredient", values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


def _recipe_lines(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "ingredient_id": values[f"ingredient_id_{i}"],
            "concentration": values.get(f"concentration_{i}"),
            "unit": values.get(f"unit_{i}"),
        }
        for i in range(RECIPE_ROWS)
        if values.get(f"ingredient_id_{i}")
    ]


@router.post("/formulary/cocktails", response_class=HTMLResponse)
def add_cocktail(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_WRITE)],
) -> Response:
    values = form_values(form)
    parsed = {k: values.get(k) for k in ("name", "description", "total_volume_ml") if values.get(k)}
    data, errors = validate(CocktailCreate, dict(parsed, lines=_recipe_lines(values)))

    def save(data: CocktailCreate) -> Response:
        cocktail = service.create_cocktail(session, actor, data)
        return redirect("/formulary", f"Cocktail {cocktail.name} added.")

    def show_form(errors: dict[str, str]) -> Response:
        return _formulary(request, session, actor, "cocktail", values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/formulary/products", response_class=HTMLResponse)
def add_product(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_WRITE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(ProductCreate, values)

    def save(data: ProductCreate) -> Response:
        product = service.create_product(session, actor, data)
        return redirect("/formulary", f"Product {product.name} added.")

    def show_form(errors: dict[str, str]) -> Response:
        return _formulary(request, session, actor, "product", values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


def _stock(
    request: Request,
    session: Session,
    actor: Actor,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clinics = (
        []
        if actor.clinic_id
        else session.execute(select(Clinic).order_by(Clinic.name)).scalars().all()
    )
    return render(
        request,
        "formulary/stock.html",
        {
            "lots": stock.list_lots(session, actor),
            "alerts": stock.alerts(
                session, actor, expiry_alert_days=settings_of(request).stock_expiry_alert_days
            ),
            "products": service.list_products(session, actor),
            "clinics": clinics,
            "values": values or {},
            "errors": errors or {},
            "today": utcnow().date(),
        },
        status_code=status_code,
    )


@router.get("/stock", response_class=HTMLResponse)
def stock_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_READ)],
) -> Response:
    return _stock(request, session, actor)


@router.post("/stock/lots", response_class=HTMLResponse)
def receive_lot(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.STOCK_WRITE)],
) -> Response:
    values = form_values(form)
    clinic = values.pop("clinic_id", None)
    data, errors = validate(LotReceive, values)

    def save(data: LotReceive) -> Response:
        lot = stock.receive(session, actor, data, _chosen_clinic(clinic))
        return redirect(f"/stock/lots/{lot.id}", f"Lot {lot.batch_number} received.")

    def show_form(errors: dict[str, str]) -> Response:
        return _stock(request, session, actor, values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


def _chosen_clinic(value: str | None) -> uuid.UUID | None:
    """The form's clinic choice (admins only; staff receive into their own clinic)."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput("Choose the clinic receiving this lot", "clinic_id") from None


def _lot_page(
    request: Request,
    session: Session,
    actor: Actor,
    lot_id: uuid.UUID,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lot = stock.get_lot(session, actor, lot_id)
    return render(
        request,
        "formulary/lot.html",
        {
            "lot": lot,
            "movements": stock.movements(session, actor, lot_id),
            "form": form,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/stock/lots/{lot_id}", response_class=HTMLResponse)
def lot_page(
    request: Request,
    lot_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_READ)],
) -> Response:
    return _lot_page(request, session, actor, lot_id)


@router.post("/stock/lots/{lot_id}/{action}", response_class=HTMLResponse)
def change_lot(
    request: Request,
    form: PostedForm,
    lot_id: uuid.UUID,
    action: str,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.STOCK_WRITE)],
) -> Response:
    """Waste, adjust or recall a lot from its page."""
    values = form_values(form)

    def show_form(errors: dict[str, str]) -> Response:
        return _lot_page(request, session, actor, lot_id, action, values, errors, 422)

    def recall(data: LotRecall) -> Response:
        stock.recall(session, actor, lot_id, data.reason)
        return redirect(
            f"/stock/lots/{lot_id}/recipients", "Lot recalled: contact the patients listed below."
        )

    def change(data: StockChange) -> Response:
        (stock.waste if action == "waste" else stock.adjust)(session, actor, lot_id, data)
        return redirect(f"/stock/lots/{lot_id}", "Stock updated.")

    if action == "recall":
        return submit_form(session, *validate(LotRecall, values), recall, show_form)
    if action in ("waste", "adjust"):
        return submit_form(session, *validate(StockChange, values), change, show_form)
    return show_form({"__all__": "Unknown stock action"})


@router.get("/stock/lots/{lot_id}/recipients", response_class=HTMLResponse)
def recipients_page(
    request: Request,
    lot_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.FORMULARY_READ)],
) -> Response:
    """The recall report: every patient and visit that received the lot."""
    lot = stock.get_lot(session, actor, lot_id)
    return render(
        request,
        "formulary/recipients.html",
        {"lot": lot, "rows": recipients_of_lot(session, actor, lot_id)},
    )


def stock_panel(session: Session, actor: Actor) -> Panel | None:
    """Dashboard panel: lots expiring or expired and products running low."""
    if not actor.can(Permission.FORMULARY_READ):
        return None
    # Panels are called as (session, actor); until they receive the app's Settings they read
    # them from the environment, which is where the app's own Settings come from.
    found = stock.alerts(session, actor, expiry_alert_days=get_settings().stock_expiry_alert_days)
    if not found:
        return Panel("Stock", [("No stock alerts.", "/stock")])
    lines: list[tuple[str, str | None]] = [
        (a.message, f"/stock/lots/{a.lot_id}" if a.lot_id else "/stock") for a in found[:8]
    ]
    urgent = any(a.kind in ("expired", "recalled") for a in found)
    return Panel("Stock alerts", lines, tone="bad" if urgent else "warn")
