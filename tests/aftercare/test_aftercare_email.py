"""The aftercare email goes out right after a completed visit, once, and never for old visits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mesoclinic.aftercare import scheduler, worker
from mesoclinic.aftercare.rulebook import load
from mesoclinic.db import unit_of_work
from mesoclinic.visits.models import Visit

NOW = datetime.now(UTC).replace(microsecond=0)


def test_completed_visit_gets_one_aftercare_email(
    world: Any, smtp: Any, mail_settings: Any, add_visit: Any
) -> None:
    add_visit(world.patient_a, NOW - timedelta(minutes=20))
    worker.run_once(world.db.factory, mail_settings, now=NOW)
    worker.run_once(world.db.factory, mail_settings, now=NOW + timedelta(minutes=5))
    assert smtp.inbox.subjects() == ["Aftercare instructions for your mesotherapy session today"]
    body = smtp.inbox.messages[0].get_content()
    assert "Avoid sun exposure" in body and "Do not wash your hair" in body
    assert "Stop aspirin" not in body  # a "before" precaution is not aftercare


def test_enqueue_aftercare_from_the_visit_flow_is_idempotent(world: Any, add_visit: Any) -> None:
    from mesoclinic.aftercare.service import enqueue_aftercare

    visit_id = add_visit(world.patient_a, NOW - timedelta(minutes=1))
    with unit_of_work(world.db.factory) as s:
        visit = s.get(Visit, visit_id)
        assert visit is not None
        first = enqueue_aftercare(s, visit, load())
        second = scheduler.enqueue_aftercare(s, visit, load(), NOW)
        assert first is not None and second is not None and first.id == second.id
        assert first.status == "queued" and first.kind == "aftercare"


def test_old_and_voided_visits_get_no_aftercare_email(
    world: Any, smtp: Any, mail_settings: Any, add_visit: Any
) -> None:
    add_visit(world.patient_a, NOW - timedelta(days=2))
    add_visit(world.other_patient_a, NOW - timedelta(minutes=5), status="entered-in-error")
    report = worker.run_once(world.db.factory, mail_settings, now=NOW)
    assert report.queued == 0 and smtp.inbox.messages == []
