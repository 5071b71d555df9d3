"""The demo clinic shows aftercare working: a conflicting declared event and a mixed outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mesoclinic.aftercare.models import DeclaredEvent, OutboxMessage
from mesoclinic.aftercare.rulebook import load
from mesoclinic.aftercare.service import booking_warnings
from mesoclinic.aftercare.sessions import next_appointments
from mesoclinic.db import utcnow


def test_demo_has_a_conflict_and_sent_queued_and_skipped_emails(session: Any, demo: Any) -> None:
    statuses = {m.status for m in session.execute(select(OutboxMessage)).scalars()}
    assert {"sent", "queued", "skipped"} <= statuses
    events = list(session.execute(select(DeclaredEvent)).scalars())
    assert {e.kind for e in events} >= {"hair_colouring", "beach_holiday", "sauna"}
    conflicted = [
        pid
        for pid in demo.extra["aftercare_demo_patients"]
        if (appts := next_appointments(session, pid, utcnow()))
        and booking_warnings(session, pid, appts[0].starts_at, rulebook=load())
    ]
    assert conflicted
