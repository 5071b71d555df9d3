"""The outbox worker against a real SMTP server: each message arrives once, even across crashes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from mesoclinic.aftercare import outbox, worker
from mesoclinic.aftercare.models import OutboxMessage
from mesoclinic.db import unit_of_work
from mesoclinic.patients.models import Patient

NOW = datetime.now(UTC).replace(microsecond=0)


class SimulatedCrash(BaseException):
    """Stands for the process dying (not an error the worker would catch)."""


def crash(_settings: Any, _message: Any) -> None:
    raise SimulatedCrash()


def rows(world: Any) -> list[OutboxMessage]:
    with world.db.factory() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.kind)).scalars())


def test_reminders_arrive_once_each_when_due(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    starts = NOW + timedelta(hours=30)
    add_appointment(world.patient_a, starts)
    first = worker.run_once(world.db.factory, mail_settings, now=NOW)
    assert (first.queued, first.sent) == (2, 1)  # the 7-day email is already due
    assert smtp.inbox.subjects()[0].startswith("Before your session on")
    worker.run_once(world.db.factory, mail_settings, now=NOW + timedelta(minutes=1))
    assert len(smtp.inbox.messages) == 1  # the 24 h reminder is not due yet, nothing resent
    worker.run_once(world.db.factory, mail_settings, now=starts - timedelta(hours=23))
    worker.run_once(world.db.factory, mail_settings, now=starts - timedelta(hours=22))
    assert len(smtp.inbox.messages) == 2
    reminder = smtp.inbox.messages[1]
    assert smtp.inbox.subjects()[1].startswith("Reminder: your mesotherapy session")
    assert str(reminder["To"]) == "ana@example.org"
    assert str(reminder["From"]) == "clinic@example.org"
    assert "Stop aspirin" in smtp.inbox.messages[0].get_content()
    by_kind = {r.kind: r for r in rows(world)}
    assert by_kind["appointment_reminder"].message_id == str(reminder["Message-ID"])
    assert all(r.status == "sent" and r.attempts == 1 for r in by_kind.values())


def test_worker_crash_after_claim_then_restart_sends_exactly_once(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    add_appointment(world.patient_a, NOW + timedelta(hours=10))
    with pytest.raises(SimulatedCrash):
        worker.run_once(world.db.factory, mail_settings, now=NOW, send=crash)
    assert smtp.inbox.messages == []
    assert {r.status for r in rows(world)} == {"sending"}
    # A restart while the dead worker's lease still runs does not touch its messages ...
    worker.run_once(world.db.factory, mail_settings, now=NOW + timedelta(minutes=1))
    assert smtp.inbox.messages == []
    # ... and once the lease has expired each message goes out exactly once.
    later = NOW + outbox.LEASE + timedelta(seconds=1)
    report = worker.run_once(world.db.factory, mail_settings, now=later)
    worker.run_once(world.db.factory, mail_settings, now=later + timedelta(minutes=10))
    assert report.sent == 2
    assert len(smtp.inbox.messages) == 2
    assert len(set(smtp.inbox.message_ids())) == 2
    assert {r.status for r in rows(world)} == {"sent"}


def test_smtp_outage_is_retried_with_backoff_then_sent_once(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    add_appointment(world.patient_a, NOW + timedelta(hours=10))
    smtp.stop()
    report = worker.run_once(world.db.factory, mail_settings, now=NOW)
    assert report.retrying == 2
    failed = rows(world)
    assert all(r.status == "queued" and r.attempts == 1 and r.last_error for r in failed)
    assert all(r.send_after == NOW + outbox.retry_delay(1) or r.send_after > NOW for r in failed)
    smtp.start()
    # Not due again before the back-off has passed.
    assert worker.run_once(world.db.factory, mail_settings, now=NOW).sent == 0
    report = worker.run_once(
        world.db.factory, mail_settings, now=datetime.now(UTC) + timedelta(minutes=2)
    )
    assert report.sent == 2
    assert len(smtp.inbox.messages) == 2
    assert all(r.status == "sent" and r.attempts == 2 for r in rows(world))


def test_message_is_marked_failed_after_the_last_attempt(
    world: Any, smtp: Any, settings_for: Any, add_appointment: Any
) -> None:
    settings = settings_for(
        world.db.url, smtp_host="127.0.0.1", smtp_port=smtp.port, outbox_max_attempts=2
    )
    add_appointment(world.patient_a, NOW + timedelta(hours=10))
    smtp.stop()
    moment = NOW
    for _ in range(2):
        worker.run_once(world.db.factory, settings, now=moment)
        moment = datetime.now(UTC) + timedelta(hours=2)
    assert {(r.status, r.attempts) for r in rows(world)} == {("failed", 2)}


def test_opted_out_patient_is_never_emailed(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    with unit_of_work(world.db.factory) as s:
        s.execute(
            update(Patient).where(Patient.id == world.other_patient_a.id).values(email_opt_out=True)
        )
    add_appointment(world.other_patient_a, NOW + timedelta(hours=10))
    add_appointment(world.patient_a, NOW + timedelta(hours=10))
    worker.run_once(world.db.factory, mail_settings, now=NOW)
    assert {str(m["To"]) for m in smtp.inbox.messages} == {"ana@example.org"}
    skipped = [r for r in rows(world) if r.patient_id == world.other_patient_a.id]
    assert {r.status for r in skipped} == {"skipped"}
    assert "opted out" in (skipped[0].last_error or "")


def test_opting_out_after_queueing_stops_the_queued_email(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    starts = NOW + timedelta(hours=30)
    add_appointment(world.patient_a, starts)
    worker.run_once(world.db.factory, mail_settings, now=NOW)
    with unit_of_work(world.db.factory) as s:
        s.execute(
            update(Patient).where(Patient.id == world.patient_a.id).values(email_opt_out=True)
        )
    worker.run_once(world.db.factory, mail_settings, now=starts - timedelta(hours=23))
    assert len(smtp.inbox.messages) == 1
    assert {r.kind: r.status for r in rows(world)}["appointment_reminder"] == "skipped"


def test_cancelled_or_moved_appointment_withdraws_its_reminder(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    from mesoclinic.plans.models import Appointment

    starts = NOW + timedelta(days=5)
    appointment_id = add_appointment(world.patient_a, starts)
    worker.run_once(world.db.factory, mail_settings, now=NOW)
    with unit_of_work(world.db.factory) as s:
        s.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id)
            .values(starts_at=starts + timedelta(days=1))
        )
    worker.run_once(world.db.factory, mail_settings, now=NOW + timedelta(minutes=1))
    statuses = sorted((r.kind, r.status) for r in rows(world))
    assert ("appointment_reminder", "skipped") in statuses  # the old time's reminder
    assert ("appointment_reminder", "queued") in statuses  # a fresh one for the new time
    with unit_of_work(world.db.factory) as s:
        s.execute(
            update(Appointment).where(Appointment.id == appointment_id).values(status="cancelled")
        )
    worker.run_once(world.db.factory, mail_settings, now=NOW + timedelta(minutes=2))
    assert all(r.status in ("skipped", "sent") for r in rows(world))


@pytest.mark.committed  # threads on their own connections
def test_parallel_workers_never_send_a_message_twice(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    for hours in (5, 6, 7, 8):
        add_appointment(world.patient_a, NOW + timedelta(hours=hours))
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            worker.run_once(world.db.factory, mail_settings, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(smtp.inbox.messages) == 8
    assert len(set(smtp.inbox.message_ids())) == 8


def test_message_that_keeps_crashing_the_worker_is_given_up(
    world: Any, smtp: Any, settings_for: Any, add_appointment: Any
) -> None:
    settings = settings_for(
        world.db.url, smtp_host=smtp.host, smtp_port=smtp.port, outbox_max_attempts=2
    )
    add_appointment(world.patient_a, NOW + timedelta(hours=10))
    moment = NOW
    for _ in range(2):
        with pytest.raises(SimulatedCrash):
            worker.run_once(world.db.factory, settings, now=moment, send=crash)
        moment += outbox.LEASE + timedelta(seconds=1)
    worker.run_once(world.db.factory, settings, now=moment)
    assert smtp.inbox.messages == []
    assert {(r.status, r.attempts) for r in rows(world)} == {("failed", 2)}
    assert "worker stopped while sending" in (rows(world)[0].last_error or "")


def test_unexpected_send_error_is_retried_not_lost(
    world: Any, smtp: Any, mail_settings: Any, add_appointment: Any
) -> None:
    def broken(_settings: Any, _message: Any) -> None:
        raise ValueError("header contains a newline")

    add_appointment(world.patient_a, NOW + timedelta(hours=10))
    report = worker.run_once(world.db.factory, mail_settings, now=NOW, send=broken)
    assert report.retrying == 2
    assert all(r.status == "queued" and "ValueError" in (r.last_error or "") for r in rows(world))
