"""The outbox worker: queue due reminders, then send due messages over SMTP, once each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.aftercare import mailer, outbox, scheduler, sessions
from mesoclinic.aftercare.rulebook import load
from mesoclinic.config import Settings
from mesoclinic.db import unit_of_work, utcnow

log = logging.getLogger(__name__)
Sender = Callable[[Settings, outbox.Claimed], None]


@dataclass
class WorkerReport:
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.queued or self.sent or self.retrying or self.failed)

    def __str__(self) -> str:
        return (
            f"queued {self.queued}, sent {self.sent}, "
            f"retrying {self.retrying}, failed {self.failed}"
        )


def run_once(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    send: Sender = mailer.send,
) -> WorkerReport:
    """One outbox pass: scan for reminders to queue, then deliver every due message."""
    now = now or utcnow()
    report = WorkerReport()
    rulebook = load(settings.aftercare_rulebook)
    with unit_of_work(factory) as session:
        report.queued = scheduler.queue_appointment_reminders(session, now, rulebook).queued
        report.queued += sessions.queue_missing_aftercare(session, now, rulebook)
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    for claimed in outbox.claim_due(
        factory, now, lease=lease, max_attempts=settings.outbox_max_attempts
    ):
        _deliver(factory, settings, claimed, send, report)
    return report


def _deliver(
    factory: sessionmaker[Session],
    settings: Settings,
    claimed: outbox.Claimed,
    send: Sender,
    report: WorkerReport,
) -> None:
    try:
        send(settings, claimed)
    except Exception as exc:  # noqa: BLE001 - any refusal (SMTP, network, bad address) is retried
        status = outbox.mark_failed(
            factory, claimed, f"{type(exc).__name__}: {exc}", utcnow(), settings.outbox_max_attempts
        )
        if status == "failed":
            report.failed += 1
        else:
            report.retrying += 1
        log.warning("outbox %s: attempt %s failed: %s", claimed.id, claimed.attempts, exc)
        return
    # Marked straight after the server accepted it: the only double-send window is here.
    if not outbox.mark_sent(factory, claimed, utcnow()):
        log.warning("outbox %s: sent but the claim had been taken over", claimed.id)
    report.sent += 1
