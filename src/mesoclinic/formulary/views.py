"""Read models built from ORM rows (millilitres for people, microlitres inside)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from mesoclinic.formulary.models import Lot, Product, StockMovement
from mesoclinic.formulary.schemas import LotRead, MovementRead, ProductRead, Recipient

RECIPIENT_COLUMNS = (
    "performed_at",
    "record_number",
    "patient_name",
    "phone",
    "email",
    "volume_ml",
    "visit_status",
    "visit_id",
    "patient_id",
)


def lot_read(lot: Lot) -> LotRead:
    return LotRead(
        id=lot.id,
        clinic_id=lot.clinic_id,
        product_id=lot.product_id,
        product_name=lot.product.name,
        manufacturer=lot.product.manufacturer,
        batch_number=lot.batch_number,
        expires_on=lot.expires_on,
        quantity_received_ml=lot.quantity_received_ul / 1000,
        balance_ml=lot.balance_ul / 1000,
        received_at=lot.received_at,
        recalled_at=lot.recalled_at,
        recall_reason=lot.recall_reason,
    )


def product_read(product: Product) -> ProductRead:
    return ProductRead(
        id=product.id,
        name=product.name,
        manufacturer=product.manufacturer,
        presentation=product.presentation,
        cocktail_id=product.cocktail_id,
        cocktail_name=product.cocktail.name,
        low_stock_threshold_ml=product.low_stock_threshold_ul / 1000,
    )


def movement_read(m: StockMovement) -> MovementRead:
    return MovementRead(
        id=m.id,
        kind=m.kind,
        quantity_ml=m.quantity_ul / 1000,
        balance_after_ml=m.balance_after_ul / 1000,
        visit_id=m.visit_id,
        reason=m.reason,
        at=m.at,
        by=m.by,
    )


def recipients_csv(rows: Iterable[Recipient]) -> str:
    """The recall report as CSV (one row per visit that received the lot)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RECIPIENT_COLUMNS)
    for r in rows:
        values = r.model_dump()
        values["performed_at"] = r.performed_at.isoformat()
        writer.writerow([_safe_cell(values[c]) for c in RECIPIENT_COLUMNS])
    return out.getvalue()


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ would run as a formula when the file is opened in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
