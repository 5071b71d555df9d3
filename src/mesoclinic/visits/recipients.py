"""Who received a lot: the recall report, read from the visit records (formulary sits below)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.formulary import stock
from mesoclinic.formulary.schemas import Recipient
from mesoclinic.patients.models import Patient
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.visits.models import Visit, VisitLot


def recipients_of_lot(session: Session, actor: Actor, lot_id: uuid.UUID) -> list[Recipient]:
    """Every patient and visit that received the lot (audited as an export)."""
    lot = stock.get_lot(session, actor, lot_id)
    rows = session.execute(
        select(Visit, VisitLot.volume_ul, Patient)
        .join(VisitLot, VisitLot.visit_id == Visit.id)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(VisitLot.lot_id == lot.id)
        .order_by(Visit.performed_at, Visit.id)
    ).all()
    result = [
        Recipient(
            visit_id=v.id,
            performed_at=v.performed_at,
            patient_id=p.id,
            record_number=p.record_number,
            patient_name=p.full_name,
            phone=p.phone,
            email=p.email,
            volume_ml=vol / 1000,
            visit_status=v.status,
        )
        for v, vol, p in rows
    ]
    audit.record(
        session,
        actor,
        "export",
        "lot_recipients",
        lot.id,
        clinic_id=lot.clinic_id,
        detail={"patients": sorted({str(r.patient_id) for r in result}), "visits": len(result)},
    )
    return result
