"""Plans test helpers: make a patient treatable (consent and an assessment on file)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from mesoclinic.assessment.models import Assessment
from mesoclinic.db import unit_of_work
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients.schemas import ConsentCreate
from mesoclinic.security.actor import cli_actor


def make_treatable(
    world: Any, patient: Any, procedures: tuple[str, ...] = ("mesotherapy", "prp")
) -> None:
    """Sign consents and record an eligible assessment so the treatment gate passes."""
    actor = cli_actor("test-setup")
    with unit_of_work(world.db.factory) as s:
        for procedure in procedures:
            consent_service.sign(
                s,
                actor,
                patient.id,
                ConsentCreate(
                    procedure=procedure,
                    signed_by="Patient",
                    signed_at=datetime.now(UTC) - timedelta(days=1),
                ),
            )
        s.add(
            Assessment(
                patient_id=patient.id,
                clinic_id=patient.clinic_id,
                assessed_by="test",
                diagnosis="telogen_effluvium",
                icd10="L65.0",
                snomed="278040002",
                facts={},
                candidacy="eligible",
                decision={},
                rulebook_version="test",
            )
        )


def next_weekday(weekday: int = 1, weeks_ahead: int = 1) -> date:
    """A future date falling on `weekday` (0 = Monday), at least a few days from today."""
    today = datetime.now(UTC).date()
    day = today + timedelta(days=3)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day + timedelta(weeks=weeks_ahead - 1)


def at(day: date, hour: int, minute: int = 0) -> str:
    """An ISO start time in the clinic's zone (clinic A is Europe/London)."""
    from zoneinfo import ZoneInfo

    return datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Europe/London")
    ).isoformat()
