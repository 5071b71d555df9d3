"""The outbox of patient emails: idempotent enqueueing, claiming with a lease, and outcomes.

Delivery is at-least-once with a narrow window: a message is claimed ("sending", with a lease) in
one transaction, handed to SMTP, then marked "sent" in another. A worker that dies before the
SMTP hand-over leaves a claimed message whose lease expires; the next worker sends it once. Only a
death between the SMTP server accepting the message and the "sent" commit can send it twice, and
then with the same Message-ID so mail clients can fold the copies (docs/aftercare.md).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.aftercare.models import OutboxMessage, OutboxStatus
from mesoclinic.db import RecordStatus, unit_of_work
from mesoclinic.patients.models import Patient

LEASE = timedelta(minutes=5)
MAIL_DOMAIN = "mesoclinic.invalid"


@dataclass(frozen=True)
class Draft:
    """A message to queue for one patient."""

    kind: str
    dedupe_key: str
    subject: str
    body: str
    send_after: datetime
    related_id: uuid.UUID | None = None
    related_at: datetime | None = None


@dataclass(frozen=True)
class Claimed:
    """A snapshot of a claimed message, safe to use outside its transaction."""

    id: uuid.UUID
    claim_token: str
    to_address: str
    subject: str
    body: str
    message_id: str
    attempts: int


def skip_reason(patient: Patient) -> str | None:
    """Why a patient must not be emailed, or None when they may be."""
    if patient.status != RecordStatus.ACTIVE:
        return "patient record entered in error"
    if patient.email_opt_out:
        return "patient opted out of email"
    if not patient.email:
        return "no email address on the record"
    return None


def enqueue(session: Session, patient: Patient, draft: Draft) -> OutboxMessage:
    """Queue a message once per dedupe key; opted-out or address-less patients get "skipped"."""
    existing = _by_key(session, draft.dedupe_key)
    if existing is not None:
        return existing
    message_uuid = uuid.uuid4()
    reason = skip_reason(patient)
    row = OutboxMessage(
        id=message_uuid,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        kind=draft.kind,
        dedupe_key=draft.dedupe_key,
        related_id=draft.related_id,
        related_at=draft.related_at,
        to_address=patient.email or "",
        subject=draft.subject,
        body=draft.body,
        message_id=f"<outbox-{message_uuid}@{MAIL_DOMAIN}>",
        send_after=draft.send_after,
        status=OutboxStatus.SKIPPED if reason else "queued",
        last_error=reason,
        attempts=0,
    )
    try:
        # A concurrent scheduler may insert the same key; the unique constraint decides.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        winner = _by_key(session, draft.dedupe_key)
        assert winner is not None
        return winner
    return row


def _by_key(session: Session, key: str) -> OutboxMessage | None:
    stmt = select(OutboxMessage).where(OutboxMessage.dedupe_key == key)
    return session.execute(stmt).scalar_one_or_none()


def retry_delay(attempts: int) -> timedelta:
    """Back-off after a failed attempt: 1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def claim_due(
    factory: sessionmaker[Session],
    now: datetime,
    limit: int = 20,
    lease: timedelta = LEASE,
    max_attempts: int = 5,
) -> list[Claimed]:
    """Claim due messages (and ones whose lease expired) in one committed transaction.

    A message whose worker died while sending it `max_attempts` times is given up ("failed"),
    so a message that crashes the worker cannot loop forever.
    """
    token = secrets.token_hex(16)
    with unit_of_work(factory) as session:
        stmt = (
            select(OutboxMessage, Patient)
            .join(Patient, Patient.id == OutboxMessage.patient_id)
            .where(
                or_(
                    and_(
                        OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.send_after <= now
                    ),
                    and_(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.lease_until <= now,
                    ),
                )
            )
            .order_by(OutboxMessage.send_after)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Parallel workers each take different rows; SQLite serialises with BEGIN IMMEDIATE.
            stmt = stmt.with_for_update(of=OutboxMessage, skip_locked=True)
        claimed = []
        for row, patient in session.execute(stmt).all():
            if reason := skip_reason(patient):  # opted out after the message was queued
                row.status, row.last_error, row.lease_until = OutboxStatus.SKIPPED, reason, None
                continue
            if row.status == OutboxStatus.SENDING and row.attempts >= max_attempts:
                row.status, row.lease_until = OutboxStatus.FAILED, None
                row.last_error = f"worker stopped while sending, {row.attempts} times"
                continue
            row.status, row.claim_token = OutboxStatus.SENDING, token
            row.lease_until, row.attempts = now + lease, row.attempts + 1
            row.to_address = patient.email or row.to_address
            claimed.append(
                Claimed(
                    row.id,
                    token,
                    row.to_address,
                    row.subject,
                    row.body,
                    row.message_id,
                    row.attempts,
                )
            )
        return claimed


def mark_sent(factory: sessionmaker[Session], claimed: Claimed, now: datetime) -> bool:
    """Record delivery; False when the claim was lost (another worker took the message)."""
    with unit_of_work(factory) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id, OutboxMessage.claim_token == claimed.claim_token)
            .values(status=OutboxStatus.SENT, sent_at=now, lease_until=None, last_error=None)
        )
        return bool(getattr(result, "rowcount", 0))


def mark_failed(
    factory: sessionmaker[Session], claimed: Claimed, error: str, now: datetime, max_attempts: int
) -> str:
    """Put a failed message back in the queue with back-off, or give up after max attempts."""
    final = claimed.attempts >= max_attempts
    status = "failed" if final else "queued"
    with unit_of_work(factory) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id, OutboxMessage.claim_token == claimed.claim_token)
            .values(
                status=status,
                last_error=error[:2000],
                lease_until=None,
                send_after=now + retry_delay(claimed.attempts),
            )
        )
    return status
