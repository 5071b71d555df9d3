"""The adverse-event rates of a cohort's sessions, per product and lot, technique, clinician,
cocktail or product (statements only; `safety.py` runs them): `derived_*` from the derived
exposure rows when they are ready, else counted over the sessions themselves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, distinct, func, select

from mesoclinic.analytics.models import ANALYTICS_EXPOSURES
from mesoclinic.formulary.models import Cocktail, Lot, Product
from mesoclinic.security.models import User
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot, VisitStatus


def _adverse_visits() -> Any:
    return (
        select(AdverseEvent.visit_id)
        .where(AdverseEvent.type != "none")
        .distinct()
        .subquery("adverse_visits")
    )


def lot_rates(members: Any) -> Any:
    """Per product and lot: sessions that drew on the lot, patients, sessions with an adverse
    event (any type other than "none")."""
    adverse = _adverse_visits()
    return (
        select(
            Product.name.label("product"),
            Lot.batch_number.label("lot"),
            Lot.recalled_at.is_not(None).label("recalled"),
            func.count(distinct(Visit.id)).label("exposures"),
            func.count(distinct(Visit.patient_id)).label("patients"),
            func.count(distinct(case((adverse.c.visit_id.is_not(None), Visit.id)))).label("events"),
        )
        .select_from(VisitLot)
        .join(Visit, Visit.id == VisitLot.visit_id)
        .join(members, members.c.patient_id == Visit.patient_id)
        .join(Lot, Lot.id == VisitLot.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .outerjoin(adverse, adverse.c.visit_id == Visit.id)
        .where(Visit.status == VisitStatus.COMPLETED)
        .group_by(Product.name, Lot.batch_number, Lot.recalled_at)
        .order_by(Product.name, Lot.batch_number)
    )


def session_rates(members: Any, by: str) -> Select[Any]:
    """Per technique, clinician or cocktail: sessions, patients, sessions with an adverse event."""
    adverse = _adverse_visits()
    column: Any = {
        "technique": Visit.technique,
        "clinician": func.coalesce(func.nullif(User.display_name, ""), User.username),
        "cocktail": Cocktail.name,
        "product": Product.name,
    }[by]
    query = (
        select(
            column.label("name"),
            func.count(distinct(Visit.id)).label("exposures"),
            func.count(distinct(Visit.patient_id)).label("patients"),
            func.count(distinct(case((adverse.c.visit_id.is_not(None), Visit.id)))).label("events"),
        )
        .select_from(Visit)
        .join(members, members.c.patient_id == Visit.patient_id)
        .outerjoin(adverse, adverse.c.visit_id == Visit.id)
        .where(Visit.status == VisitStatus.COMPLETED)
    )
    if by == "clinician":
        query = query.join(User, User.id == Visit.practitioner_id)
    if by == "cocktail":
        query = query.join(Cocktail, Cocktail.id == Visit.cocktail_id)
    if by == "product":
        query = (
            query.join(VisitLot, VisitLot.visit_id == Visit.id)
            .join(Lot, Lot.id == VisitLot.lot_id)
            .join(Product, Product.id == Lot.product_id)
        )
    return query.group_by(column).order_by(column)


def _exposures(members: Any, dimension: str) -> Any:
    """The members' exposure rows of one dimension (`analytics.rows.exposure_rows`)."""
    e = ANALYTICS_EXPOSURES
    return (
        select(e)
        .join(members, members.c.patient_id == e.c.patient_id)
        .where(e.c.dimension == dimension)
        .subquery(f"exposed_{dimension}")
    )


def derived_lot_rates(members: Any) -> Any:
    """`lot_rates` from the derived exposure rows: sums over about one row per patient and lot
    instead of distinct sessions counted over every session."""
    e = _exposures(members, "lot")
    return (
        select(
            Product.name.label("product"),
            Lot.batch_number.label("lot"),
            Lot.recalled_at.is_not(None).label("recalled"),
            func.sum(e.c.sessions).label("exposures"),
            func.count(distinct(e.c.patient_id)).label("patients"),
            func.sum(e.c.events).label("events"),
        )
        .join(Lot, Lot.id == e.c.lot_id)
        .join(Product, Product.id == Lot.product_id)
        .group_by(Product.name, Lot.batch_number, Lot.recalled_at)
        .order_by(Product.name, Lot.batch_number)
    )


def derived_session_rates(members: Any, by: str) -> Select[Any]:
    """`session_rates` from the derived exposure rows."""
    e = _exposures(members, by)
    column: Any = {
        "technique": e.c.technique,
        "clinician": func.coalesce(func.nullif(User.display_name, ""), User.username),
        "cocktail": Cocktail.name,
        "product": Product.name,
    }[by]
    query = select(
        column.label("name"),
        func.sum(e.c.sessions).label("exposures"),
        func.count(distinct(e.c.patient_id)).label("patients"),
        func.sum(e.c.events).label("events"),
    ).select_from(e)
    if by == "clinician":
        query = query.join(User, User.id == e.c.practitioner_id)
    if by == "cocktail":
        query = query.join(Cocktail, Cocktail.id == e.c.cocktail_id)
    if by == "product":
        query = query.join(Product, Product.id == e.c.product_id)
    return query.group_by(column).order_by(column)
