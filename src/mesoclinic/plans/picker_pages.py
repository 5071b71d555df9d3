"""The booking form's patient: typed (name, record number or phone), then picked.

The calendar page lists no patients (a clinic of thousands cannot be a drop-down, and every
name shown must be an audited read). The typed text runs the patients' own search, audited as
a search with the ids it returned: one match is the patient; several come back as choices to
pick from; none is an error on the field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.errors import DomainError
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import Actor

CHOICES = 10  # candidates shown when the text matches several patients


@dataclass
class Pick:
    """The patient a booking form names, or why it names none (with candidates to choose)."""

    patient_id: str | None = None
    error: str | None = None
    choices: list[Patient] = field(default_factory=list)


def pick_patient(
    session: Session, actor: Actor, values: dict[str, Any], clinic_id: uuid.UUID
) -> Pick:
    """The posted `patient_id` (a choice made on the re-shown form) or the one patient the
    typed `patient` text finds in the calendar's clinic."""
    chosen = (values.get("patient_id") or "").strip()
    if chosen:
        return Pick(patient_id=chosen)
    text = (values.get("patient") or "").strip()
    if not text:
        return Pick(error="Type the patient's name, record number or phone number")
    query = patient_service.PatientQuery(text=text, clinic_id=clinic_id)
    found = patient_service.find(session, actor, query, limit=CHOICES)
    if found.total == 1:
        return Pick(patient_id=str(found.rows[0].id))
    if not found.rows:
        return Pick(
            error=f"No patient of this clinic matches “{text}”: check the spelling, or "
            "register the patient first"
        )
    more = "" if found.total <= CHOICES else f" (the first {CHOICES}; type more to narrow)"
    return Pick(
        error=f"{found.total} patients match “{text}”: choose one{more}",
        choices=list(found.rows),
    )


def chosen_patient(session: Session, actor: Actor, patient_id: str | None) -> Patient | None:
    """The patient already chosen on a form shown again (another field was refused), read
    with the actor's rights (audited); None when the id names nothing the actor may see."""
    if not patient_id:
        return None
    try:
        return patient_service.get(session, actor, uuid.UUID(patient_id))
    except (ValueError, DomainError):
        return None
