"""Lots and stock: receive, waste, adjust, recall, and stock alerts.

Every change is a StockMovement and updates the lot's stored balance in the same transaction;
the balance never goes below zero (checked here, and by a CHECK constraint in the database).
Deductions lock the lot row first (SELECT ... FOR UPDATE) so two visits cannot both take the
last millilitres; SQLite serialises whole transactions instead (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import utcnow
from mesoclinic.errors import Conflict, InvalidInput, InvalidTransition, NotFound, RuleViolation
from mesoclinic.formulary.models import Lot, Product, StockMovement
from mesoclinic.formulary.schemas import LotReceive, StockAlert, StockChange
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission


def ul(millilitres: float) -> int:
    """Millilitres to whole microlitres (the unit balances are kept in)."""
    return round(millilitres * 1000)


def _in_scope(actor: Actor, lot: Lot) -> bool:
    return actor.is_group_admin or lot.clinic_id == actor.clinic_id


def list_lots(session: Session, actor: Actor, *, include_empty: bool = True) -> Sequence[Lot]:
    """The lots of the actor's clinic (every clinic for a group admin), soonest expiry first."""
    actor.require(Permission.FORMULARY_READ)
    stmt = select(Lot).order_by(Lot.expires_on, Lot.batch_number)
    if not actor.is_group_admin:
        stmt = stmt.where(Lot.clinic_id == actor.clinic_id)
    if not include_empty:
        stmt = stmt.where(Lot.balance_ul > 0)
    return session.execute(stmt).scalars().all()


@dataclass(frozen=True)
class LotChoice:
    """A lot a visit may draw from, and whether it expires within the alert horizon."""

    lot: Lot
    expiring_soon: bool


def lots_for_visit(
    session: Session,
    actor: Actor,
    *,
    clinic_id: uuid.UUID,
    today: date,
    expiry_alert_days: int,
) -> list[LotChoice]:
    """The clinic's lots holding stock, neither expired nor recalled, soonest expiry first.

    `today` is the clinic-local date of the visit; lots expiring within `expiry_alert_days`
    (the same horizon as the stock alerts) are marked so the form can say so.
    """
    horizon = today + timedelta(days=expiry_alert_days)
    return [
        LotChoice(lot, lot.expires_on <= horizon)
        for lot in list_lots(session, actor, include_empty=False)
        if lot.clinic_id == clinic_id and lot.recalled_at is None and lot.expires_on >= today
    ]


def get_lot(session: Session, actor: Actor, lot_id: uuid.UUID) -> Lot:
    actor.require(Permission.FORMULARY_READ)
    lot = session.get(Lot, lot_id)
    if lot is None or not _in_scope(actor, lot):
        raise NotFound("Lot not found")
    return lot


def movements(session: Session, actor: Actor, lot_id: uuid.UUID) -> Sequence[StockMovement]:
    lot = get_lot(session, actor, lot_id)
    return (
        session.execute(
            select(StockMovement)
            .where(StockMovement.lot_id == lot.id)
            .order_by(StockMovement.at, StockMovement.id)
        )
        .scalars()
        .all()
    )


def receive(
    session: Session, actor: Actor, data: LotReceive, clinic_id: uuid.UUID | None = None
) -> Lot:
    """Record a delivered lot and its opening balance."""
    actor.require(Permission.STOCK_WRITE)
    target = actor.target_clinic(clinic_id, "this lot")
    if session.get(Clinic, target) is None:
        raise InvalidInput("Choose the clinic receiving this lot", "clinic_id")
    if session.get(Product, data.product_id) is None:
        raise NotFound("Product not found", "product_id")
    if data.expires_on < utcnow().date():
        raise InvalidInput("This lot has already expired: do not receive it", "expires_on")
    if session.execute(
        select(Lot.id).where(
            Lot.clinic_id == target,
            Lot.product_id == data.product_id,
            Lot.batch_number == data.batch_number,
        )
    ).first():
        raise Conflict("This batch of this product was already received", "batch_number")
    quantity = ul(data.quantity_ml)
    lot = Lot(
        clinic_id=target,
        product_id=data.product_id,
        batch_number=data.batch_number,
        expires_on=data.expires_on,
        quantity_received_ul=quantity,
        balance_ul=0,
        received_by=actor.username,
    )
    session.add(lot)
    session.flush()
    _move(lot, "received", quantity, actor.username, session)
    audit.record(
        session,
        actor,
        "create",
        "lot",
        lot.id,
        clinic_id=target,
        detail={"batch": lot.batch_number, "quantity_ul": quantity},
    )
    return lot


def lock_lots(session: Session, lot_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Lot]:
    """Lock the lots' rows (in id order, so two visits never deadlock) and reload them."""
    ids = sorted(set(lot_ids))
    rows = (
        session.execute(
            select(Lot)
            .where(Lot.id.in_(ids))
            .order_by(Lot.id)
            .with_for_update(of=Lot)
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    return {lot.id: lot for lot in rows}


def _move(
    lot: Lot,
    kind: str,
    quantity_ul: int,
    by: str,
    session: Session,
    *,
    visit_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> StockMovement:
    balance = lot.balance_ul + quantity_ul
    if balance < 0:
        raise RuleViolation(
            f"Lot {lot.batch_number} holds {lot.balance_ul / 1000:g} mL; this would take it "
            "below zero.",
            [
                {
                    "rule_id": "lot.insufficient",
                    "severity": "refuse",
                    "reason": f"Lot {lot.batch_number} holds {lot.balance_ul / 1000:g} mL.",
                    "source": "Stock control: a lot cannot give more than it holds",
                }
            ],
            code="insufficient_stock",
        )
    lot.balance_ul = balance
    movement = StockMovement(
        lot_id=lot.id,
        kind=kind,
        quantity_ul=quantity_ul,
        balance_after_ul=balance,
        visit_id=visit_id,
        reason=reason,
        by=by,
    )
    session.add(movement)
    session.flush()
    return movement


def draw_for_visit(
    session: Session, lot: Lot, volume_ul: int, visit_id: uuid.UUID, by: str
) -> StockMovement:
    """Deduct what a visit used from a lot the caller has locked."""
    return _move(lot, "used", -volume_ul, by, session, visit_id=visit_id)


def _locked_lot(session: Session, actor: Actor, lot_id: uuid.UUID) -> Lot:
    actor.require(Permission.STOCK_WRITE)
    get_lot(session, actor, lot_id)
    return lock_lots(session, [lot_id])[lot_id]


def waste(session: Session, actor: Actor, lot_id: uuid.UUID, change: StockChange) -> Lot:
    """Record product discarded (broken vial, opened and not used)."""
    if change.quantity_ml <= 0:
        raise InvalidInput("Wasted quantity must be positive", "quantity_ml")
    lot = _locked_lot(session, actor, lot_id)
    _move(lot, "wasted", -ul(change.quantity_ml), actor.username, session, reason=change.reason)
    audit.record(
        session,
        actor,
        "waste",
        "lot",
        lot.id,
        clinic_id=lot.clinic_id,
        detail={"quantity_ml": change.quantity_ml, "reason": change.reason},
    )
    return lot


def adjust(session: Session, actor: Actor, lot_id: uuid.UUID, change: StockChange) -> Lot:
    """Correct the balance after a count (positive adds, negative removes)."""
    lot = _locked_lot(session, actor, lot_id)
    _move(lot, "adjusted", ul(change.quantity_ml), actor.username, session, reason=change.reason)
    audit.record(
        session,
        actor,
        "adjust",
        "lot",
        lot.id,
        clinic_id=lot.clinic_id,
        detail={"quantity_ml": change.quantity_ml, "reason": change.reason},
    )
    return lot


def recall(session: Session, actor: Actor, lot_id: uuid.UUID, reason: str) -> Lot:
    """Mark a lot recalled: it is refused at every later visit."""
    lot = _locked_lot(session, actor, lot_id)
    if lot.recalled_at is not None:
        raise InvalidTransition("This lot is already recalled")
    lot.recalled_at = utcnow()
    lot.recall_reason = reason
    lot.recalled_by = actor.username
    session.flush()
    audit.record(
        session, actor, "recall", "lot", lot.id, clinic_id=lot.clinic_id, detail={"reason": reason}
    )
    return lot


def alerts(
    session: Session, actor: Actor, *, expiry_alert_days: int, today: date | None = None
) -> list[StockAlert]:
    """Recalled, expired or soon-expiring lots still holding stock; products below threshold."""
    today = today or utcnow().date()
    horizon = today + timedelta(days=expiry_alert_days)
    found: list[StockAlert] = []
    holding = list_lots(session, actor, include_empty=False)
    for lot in (lot for lot in holding if lot.recalled_at is not None):
        found.append(
            StockAlert(
                kind="recalled",
                lot_id=lot.id,
                product_id=lot.product_id,
                message=f"{lot.product.name} lot {lot.batch_number} is recalled "
                f"({lot.balance_ul / 1000:g} mL left): quarantine it.",
            )
        )
    lots = [lot for lot in holding if lot.recalled_at is None]
    for lot in lots:
        label = f"{lot.product.name} lot {lot.batch_number}"
        if lot.expires_on < today:
            found.append(
                StockAlert(
                    kind="expired",
                    lot_id=lot.id,
                    product_id=lot.product_id,
                    message=f"{label} expired on {lot.expires_on.isoformat()} "
                    f"({lot.balance_ul / 1000:g} mL left): discard it.",
                )
            )
        elif lot.expires_on <= horizon:
            found.append(
                StockAlert(
                    kind="expiring",
                    lot_id=lot.id,
                    product_id=lot.product_id,
                    message=f"{label} expires on {lot.expires_on.isoformat()} "
                    f"({lot.balance_ul / 1000:g} mL left).",
                )
            )
    usable: dict[uuid.UUID, int] = {}
    for lot in lots:
        if lot.expires_on >= today:
            usable[lot.product_id] = usable.get(lot.product_id, 0) + lot.balance_ul
    for product in session.execute(select(Product).order_by(Product.name)).scalars():
        held = usable.get(product.id, 0)
        if held < product.low_stock_threshold_ul:
            found.append(
                StockAlert(
                    kind="low_stock",
                    product_id=product.id,
                    message=f"{product.name}: {held / 1000:g} mL in usable stock (threshold "
                    f"{product.low_stock_threshold_ul / 1000:g} mL).",
                )
            )
    return found
