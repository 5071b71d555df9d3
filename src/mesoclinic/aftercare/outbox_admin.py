"""Staff view of the outbox: which patient emails were queued, sent, skipped or failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesoclinic.aftercare.models import OutboxMessage
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

StatusFilter = Literal["queued", "sending", "sent", "failed", "skipped"]


def search(
    session: Session, actor: Actor, status: str | None, *, limit: int, offset: int
) -> tuple[Sequence[OutboxMessage], int]:
    """Messages of the actor's clinic (group admin: all), newest first (search audited)."""
    actor.require(Permission.OUTBOX_READ)
    stmt = select(OutboxMessage)
    if not actor.is_group_admin:
        stmt = stmt.where(OutboxMessage.clinic_id == actor.clinic_id)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = (
        session.execute(
            stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    audit.record(
        session,
        actor,
        "search",
        "outbox",
        None,
        detail={"status": status, "returned": len(rows), "total": total},
    )
    return rows, total


def counts(session: Session, actor: Actor) -> dict[str, int]:
    """Messages per status for the actor's clinic (dashboard panel; counts only, no audit)."""
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if not actor.is_group_admin:
        stmt = stmt.where(OutboxMessage.clinic_id == actor.clinic_id)
    return {status: n for status, n in session.execute(stmt).all()}
