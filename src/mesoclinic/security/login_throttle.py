"""Login throttling kept in the database (several servers may run), per username and address.

Two counters slow a guesser without letting anyone lock a known-good login out:
- per (username, client address): `max_failures` failures in a row lock that pair for
  `lockout_minutes`; only the guesser's own address is locked;
- per username, counting only failures from addresses that never signed in as that user:
  `ADDRESS_FACTOR` times as many lock the username for `ADDRESS_FACTOR` times as long, for those
  addresses only. An address that has signed in successfully keeps working, so a stranger
  hammering `admin` from many addresses cannot keep the administrator out.
`mesoclinic users unlock USERNAME` (and setting a password) lifts both; the addresses a user
signed in from stay known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mesoclinic.db import utcnow
from mesoclinic.security.models import LoginThrottle

ANY_ADDRESS = "*"  # the username-wide row
ADDRESS_FACTOR = 4
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Limits:
    max_failures: int
    lockout_minutes: int


@dataclass(frozen=True)
class Gate:
    """The throttle rows of one attempt, locked for the length of its transaction."""

    pair: LoginThrottle
    wide: LoginThrottle | None  # None when the address has signed in as this user before
    retry_after_s: int = 0


def _row(session: Session, username: str, addr: str) -> LoginThrottle:
    """The row for (username, address), created if missing, locked until commit."""
    values = {"username": username, "client_addr": addr, "failures": 0}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(**values).on_conflict_do_nothing())
    return session.execute(
        select(LoginThrottle)
        .where(LoginThrottle.username == username, LoginThrottle.client_addr == addr)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _remaining(row: LoginThrottle | None, now: datetime) -> int:
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return int((row.locked_until - now).total_seconds()) + 1


def check(session: Session, username: str, client_addr: str | None) -> Gate:
    """Lock the attempt's rows and say how long it must wait (0: go ahead)."""
    now = utcnow()
    pair = _row(session, username, (client_addr or UNKNOWN_ADDRESS)[:64])
    wide = None if pair.succeeded_at else _row(session, username, ANY_ADDRESS)
    return Gate(pair, wide, max(_remaining(pair, now), _remaining(wide, now)))


def _count(row: LoginThrottle, now: datetime, threshold: int, lock: timedelta) -> None:
    # Failures older than the lock-out period are forgiven: typos spread over weeks never add up.
    if row.last_failure_at is None or now - row.last_failure_at > lock:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= threshold:
        row.locked_until = now + lock
        row.failures = 0


def failed(gate: Gate, limits: Limits) -> None:
    """Count a wrong password against the pair and, for a never-seen address, the username."""
    now = utcnow()
    lock = timedelta(minutes=limits.lockout_minutes)
    _count(gate.pair, now, limits.max_failures, lock)
    if gate.wide is not None:
        _count(gate.wide, now, limits.max_failures * ADDRESS_FACTOR, lock * ADDRESS_FACTOR)


def succeeded(gate: Gate) -> None:
    """A right password: this address is known-good for the user from now on."""
    gate.pair.failures = 0
    gate.pair.locked_until = None
    gate.pair.succeeded_at = utcnow()


def unlock(session: Session, username: str) -> int:
    """Lift every lock-out and failure count on a username; how many rows were locked."""
    now = utcnow()
    locked = session.execute(
        select(LoginThrottle.client_addr).where(
            LoginThrottle.username == username, LoginThrottle.locked_until > now
        )
    ).all()
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == username)
        .values(failures=0, locked_until=None)
    )
    return len(locked)
