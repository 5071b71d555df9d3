"""One-time form tokens and API `Idempotency-Key`s: a request's work is done once per key.

`claim` inserts the (user, scope, key) row in the request's own transaction before the work;
the unique constraint decides who goes first. A replay finds the committed row and gets the
first answer back; a concurrent duplicate waits on the first one's row (PostgreSQL's unique
index, SQLite's write lock) and then finds it. If the first request fails, its transaction
rolls back with the row, so the key can be used again. Keys live in the database (several
server processes may run) and expire after `KEY_LIFETIME`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.config import Settings
from mesoclinic.db import unit_of_work, utcnow
from mesoclinic.security.models import IdempotencyKey

FORM = "form"
API = "api"
# `session.info` key: (user id, one-time form token) of a signed-in browser's form post.
FORM_TOKEN_INFO = "mesoclinic_form_token"
FORM_TOKEN_FIELD = "form_token"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class FirstAnswer:
    """What the first request with this key answered (status None: it stored no answer)."""

    request_hash: str
    status_code: int | None
    location: str | None
    body: str | None


def _row(session: Session, user_id: uuid.UUID, scope: str, key: str) -> IdempotencyKey | None:
    stmt = select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.scope == scope, IdempotencyKey.key == key
    )
    return session.execute(stmt).scalars().first()


def claim(
    session: Session,
    user_id: uuid.UUID,
    scope: str,
    key: str,
    request_hash: str,
    *,
    retry: bool = True,
) -> FirstAnswer | None:
    """Take the key for this request (None: go ahead) or return the first request's answer."""
    now = utcnow()
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at < now,
        )
    )
    try:
        with session.begin_nested():
            session.add(
                IdempotencyKey(
                    user_id=user_id,
                    scope=scope,
                    key=key,
                    request_hash=request_hash,
                    created_at=now,
                    expires_at=now + KEY_LIFETIME,
                )
            )
            session.flush()
    except IntegrityError:
        row = _row(session, user_id, scope, key)
        if row is None and retry:  # the first one rolled back meanwhile: try once more
            return claim(session, user_id, scope, key, request_hash, retry=False)
        if row is None:
            raise

        return FirstAnswer(row.request_hash, row.status_code, row.location, row.body)
    return None


def settle(
    session: Session,
    user_id: uuid.UUID,
    scope: str,
    key: str,
    *,
    status_code: int,
    location: str | None = None,
    body: str | None = None,
) -> None:
    """Store the answer of the request that claimed the key, for its replays."""
    row = _row(session, user_id, scope, key)
    if row is None:
        return
    row.status_code, row.location, row.body = status_code, location, body
    session.flush()


def purge_expired(session: Session) -> int:
    """Delete expired keys (the worker's housekeeping); returns how many."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_pass(factory: sessionmaker[Session], _settings: Settings) -> str:
    """`mesoclinic worker` housekeeping: drop expired keys in one short transaction."""
    with unit_of_work(factory) as session:
        purged = purge_expired(session)
    return f"{purged} expired idempotency keys purged" if purged else ""
