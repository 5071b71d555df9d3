"""The worker: queue due reminders, send due messages over SMTP (once each), seal the audit log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.aftercare import mailer, outbox, scheduler, sessions
from mesoclinic.aftercare.rulebook import load
from mesoclinic.config import Settings
from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.security import audit_seal

log = logging.getLogger(__name__)
Sender = Callable[[Settings, outbox.Claimed], None]


@dataclass
class WorkerReport:
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    sealed: int = 0  # audit entries given their place in the hash chain


def run_once(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    send: Sender = mailer.send,
) -> WorkerReport:
    """One pass: scan for reminders to queue, then deliver every due message."""
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
    report.sealed = seal_audit(factory, settings)
    return report


def seal_audit(factory: sessionmaker[Session], settings: Settings) -> int:
    """Chain the audit entries committed since the last pass; sign a checkpoint when due."""
    key = audit_seal.checkpoint_key(settings, create=True)
    with unit_of_work(factory) as session:
        policy = audit_seal.checkpoint_policy(settings)
        return audit_seal.seal(session, key=key, policy=policy).sealed


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


def run_forever(
    factory: sessionmaker[Session],
    settings: Settings,
    poll_seconds: float,
    stop: threading.Event | None = None,
) -> None:
    """Loop until `stop` is set (or the process is interrupted)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report = run_once(factory, settings)
            if report.sent or report.failed or report.queued or report.sealed:
                log.info("outbox: %s", report)
        except Exception:  # noqa: BLE001 - keep the worker alive; the next pass retries
            log.exception("outbox pass failed")
        stop.wait(poll_seconds)
