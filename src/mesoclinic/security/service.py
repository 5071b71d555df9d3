"""Clinics, users, passwords, login with lock-out, web sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from mesoclinic.config import get_settings
from mesoclinic.db import utcnow
from mesoclinic.errors import Conflict, Forbidden, InvalidInput, NotFound
from mesoclinic.security import audit, login_throttle
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import AuthToken, Clinic, User
from mesoclinic.security.password_policy import password_problem
from mesoclinic.security.permissions import Permission, Role

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so timing does not reveal which names
    exist; computed on the first such login, not at import (every command imports this)."""
    return _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str, *, username: str = "") -> str:
    """The stored hash of a new password; refuses one the policy does not accept."""
    if problem := password_problem(password, username=username):
        raise InvalidInput(problem, "password")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def clinic_timezone(session: Session, clinic_id: uuid.UUID | None) -> str:
    """The IANA zone of a clinic's local dates and times, for every area."""
    clinic = session.get(Clinic, clinic_id) if clinic_id else None
    # A clinic row always names its zone; the one fallback (no clinic, or a clinic missing from
    # a partial restore) is the deployment's MESOCLINIC_DEFAULT_TIMEZONE, as the pages use.
    return clinic.timezone if clinic else get_settings().default_timezone


def create_clinic(
    session: Session, actor: Actor, *, name: str, timezone: str = "Europe/London"
) -> Clinic:
    """Add a clinic of the group; names are unique."""
    name = name.strip()
    if not name:
        raise InvalidInput("Clinic name is required", "name")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown time zone {timezone!r}", "timezone") from exc
    if session.execute(select(Clinic).where(Clinic.name == name)).scalar_one_or_none():
        raise Conflict(f"A clinic named {name!r} already exists", "name")
    clinic = Clinic(name=name, timezone=timezone)
    session.add(clinic)
    session.flush()
    audit.record(session, actor, "create", "clinic", clinic.id, clinic_id=clinic.id)
    return clinic


def get_clinic_by_name(session: Session, name: str) -> Clinic:
    clinic = session.execute(select(Clinic).where(Clinic.name == name)).scalar_one_or_none()
    if clinic is None:
        raise NotFound(f"No clinic named {name!r}", "clinic")
    return clinic


def list_clinics(session: Session) -> Sequence[Clinic]:
    return session.execute(select(Clinic).order_by(Clinic.name)).scalars().all()


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str,
    clinic_name: str | None = None,
    display_name: str = "",
    email: str | None = None,
    patient_id: uuid.UUID | None = None,
    clinic_id: uuid.UUID | None = None,
) -> User:
    """Add a staff or patient user; all but the group admin belong to a clinic, and a clinic
    admin adds users to their own clinic only."""
    actor.require(Permission.USERS_MANAGE)
    username = username.strip().lower()
    if (
        not username
        or len(username) > 80
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise InvalidInput("Username must be letters, digits, '.', '-' or '_'", "username")
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise InvalidInput(
            f"Unknown role {role!r}; use one of {', '.join(r.value for r in Role)}", "role"
        ) from exc
    clinic_id = _user_clinic(session, actor, role_value, clinic_name or clinic_id)
    if role_value is Role.PATIENT and patient_id is None:
        raise InvalidInput("A patient user must be linked to a patient record", "patient_id")
    if role_value is not Role.PATIENT and patient_id is not None:
        raise InvalidInput("Only patient users are linked to a patient record", "patient_id")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise Conflict(f"Username {username!r} is taken", "username")
    user = User(
        username=username,
        role=role_value.value,
        password_hash=hash_password(password, username=username),
        clinic_id=clinic_id,
        display_name=display_name or username,
        email=email,
        patient_id=patient_id,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "user",
        user.id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        detail={"username": username, "role": role_value.value},
    )
    return user


def _user_clinic(
    session: Session, actor: Actor, role: Role, clinic: str | uuid.UUID | None
) -> uuid.UUID | None:
    """The clinic (named, or by id) a new account belongs to, refusing what its role or its
    creator rules out."""
    if role is Role.ADMIN:
        if clinic:
            raise InvalidInput(
                "A group administrator belongs to no clinic and sees every clinic; "
                "for the administrator of one clinic choose the role clinic_admin",
                "clinic",
            )
        if not actor.is_group_admin:
            raise Forbidden("Only a group administrator can add another", "role")
        return None
    if actor.is_group_admin:
        if not clinic:
            raise InvalidInput("A clinic is required for every role except admin", "clinic")
        if isinstance(clinic, str):
            return get_clinic_by_name(session, clinic).id
        if session.get(Clinic, clinic) is None:
            raise NotFound("Clinic not found", "clinic")
        return clinic
    own = session.get(Clinic, actor.clinic_id) if actor.clinic_id else None
    if own is None or (clinic and clinic not in (own.name, own.id)):  # others stay unnamed
        raise Forbidden("You can only add users to your own clinic", "clinic")
    return own.id


def list_users(session: Session, actor: Actor) -> Sequence[User]:
    query = select(User).order_by(User.username)
    if not actor.is_group_admin:
        query = query.where(User.clinic_id == actor.clinic_id)
    return session.execute(query).scalars().all()


def set_password(session: Session, actor: Actor, *, username: str, password: str) -> User:
    """Replace a user's password and lift any login lock-out on that username."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {username!r}", "username")
    user.password_hash = hash_password(password, username=user.username)
    login_throttle.unlock(session, user.username)
    # Whoever held the old password may hold a session or token made with it.
    ended = _revoke_all(session, user.id)
    audit.record(
        session,
        actor,
        "set_password",
        "user",
        user.id,
        clinic_id=user.clinic_id,
        detail={"sessions_ended": ended},
    )
    return user


def unlock_login(session: Session, actor: Actor, *, username: str) -> int:
    """Lift the sign-in lock-outs on a username (known or not); how many were locked."""
    actor.require(Permission.USERS_MANAGE)
    name = username.strip().lower()
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is not None and not actor.is_group_admin and user.clinic_id != actor.clinic_id:
        raise NotFound("User not found", "username")
    lifted = login_throttle.unlock(session, name)
    audit.record(
        session,
        actor,
        "unlock_login",
        "user",
        user.id if user else None,
        clinic_id=user.clinic_id if user else None,
        detail={"username": name, "lockouts_lifted": lifted},
    )
    return lifted


def change_own_password(session: Session, actor: Actor, *, current: str, new: str) -> User:
    """A signed-in user replaces their own password; every session of theirs ends with it."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or not verify_password(user.password_hash, current):
        raise InvalidInput("The current password is not right", "current_password")
    return set_password(session, actor, username=user.username, password=new)


def _revoke_all(session: Session, user_id: uuid.UUID) -> int:
    """End every live web session and API token of a user; how many were ended."""
    now = utcnow()
    result = session.execute(
        update(AuthToken)
        .where(
            AuthToken.user_id == user_id,
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > now,
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def end_sessions(session: Session, actor: Actor, user_id: uuid.UUID) -> int:
    """An administrator signs a user out everywhere (web sessions and API tokens)."""
    actor.require(Permission.USERS_MANAGE)
    user = session.get(User, user_id)
    if user is None or (actor.clinic_id is not None and user.clinic_id != actor.clinic_id):
        raise NotFound("User not found", "user_id")
    ended = _revoke_all(session, user.id)
    audit.record(
        session,
        actor,
        "end_sessions",
        "user",
        user.id,
        clinic_id=user.clinic_id,
        detail={"sessions_ended": ended},
    )
    return ended


def active_tokens(session: Session, actor: Actor) -> Sequence[AuthToken]:
    """The actor's own live sessions and tokens, newest first (their hashes stay inside)."""
    if actor.user_id is None:  # the command line holds no token
        return []
    return (
        session.execute(
            select(AuthToken)
            .where(
                AuthToken.user_id == actor.user_id,
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > utcnow(),
            )
            .order_by(AuthToken.created_at.desc())
        )
        .scalars()
        .all()
    )


def revoke_own_token(session: Session, actor: Actor, token_id: uuid.UUID) -> None:
    """End one of the actor's own sessions or tokens; another user's is not found."""
    token = session.get(AuthToken, token_id)
    if token is None or actor.user_id is None or token.user_id != actor.user_id:
        raise NotFound("Token not found", "token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def token_id_of(session: Session, raw: str) -> uuid.UUID | None:
    """The id of the token a caller presented (to mark it as the current one)."""
    return session.execute(
        select(AuthToken.id).where(AuthToken.token_hash == _digest(raw))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    retry_after_s: int = 0

    @property
    def locked(self) -> bool:
        return self.retry_after_s > 0


def attempt_login(
    session: Session,
    *,
    username: str,
    password: str,
    client_addr: str | None,
    max_failures: int,
    lockout_minutes: int,
) -> LoginResult:
    """Check a password, counting failures per username and address (`login_throttle`); a
    locked attempt is refused outright, before the password is looked at.

    The caller commits even on failure: the failure count must survive the refused request.
    """
    name = username.strip().lower()[:80]
    gate = login_throttle.check(session, name, client_addr)
    if gate.retry_after_s:
        return LoginResult(None, gate.retry_after_s)
    user = session.execute(
        select(User).where(User.username == name, User.active.is_(True))
    ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else _dummy_hash(), password) and user
    anonymous = Actor(None, name or "(blank)", Role.PATIENT, None, None, client_addr)
    if not ok:
        login_throttle.failed(gate, login_throttle.Limits(max_failures, lockout_minutes))
        audit.record(
            session,
            anonymous if user is None else actor_for(user, client_addr),
            "login_failed",
            "user",
            user.id if user else None,
            clinic_id=user.clinic_id if user else None,
        )
        return LoginResult(None)
    assert user is not None
    login_throttle.succeeded(gate)
    user.last_login_at = utcnow()
    audit.record(session, actor_for(user, client_addr), "login", "user", user.id)
    return LoginResult(user)


def actor_for(user: User, client_addr: str | None) -> Actor:
    """The Actor a signed-in user acts as."""
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
        client_addr=client_addr,
    )


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, *, kind: str, lifetime: timedelta, client_addr: str | None
) -> tuple[str, AuthToken]:
    """Create a web session or API token; the raw value is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = AuthToken(
        token_hash=_digest(raw),
        kind=kind,
        user_id=user.id,
        expires_at=utcnow() + lifetime,
        client_addr=client_addr,
    )
    session.add(token)
    session.flush()
    return raw, token


def resolve_token(session: Session, raw: str, kind: str) -> User | None:
    """The active user behind a live token of the given kind, or None."""
    row = session.execute(
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == _digest(raw), AuthToken.kind == kind)
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or token.expires_at <= utcnow() or not user.active:
        return None
    return user


@dataclass(frozen=True)
class TokenHolder:
    """The account behind a live token, with its clinic's time zone, as plain values."""

    id: uuid.UUID
    username: str
    display_name: str
    role: str
    clinic_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    clinic_timezone: str | None


_tokens, _users, _clinics = AuthToken.__table__.c, User.__table__.c, Clinic.__table__.c
# Built once: constructing a statement costs more Python than running this one does.
_TOKEN_HOLDER = (
    select(
        _users.id,
        _users.username,
        _users.display_name,
        _users.role,
        _users.clinic_id,
        _users.patient_id,
        _clinics.timezone,
    )
    .select_from(
        AuthToken.__table__.join(User.__table__, _users.id == _tokens.user_id).outerjoin(
            Clinic.__table__, _clinics.id == _users.clinic_id
        )
    )
    .where(
        _tokens.token_hash == bindparam("digest"),
        _tokens.kind == bindparam("kind"),
        _tokens.revoked_at.is_(None),
        _tokens.expires_at > bindparam("now"),
        _users.active.is_(True),
    )
)


def resolve_token_holder(session: Session, raw: str, kind: str) -> TokenHolder | None:
    """`resolve_token` for every request: one indexed statement (token, user and clinic
    joined, liveness checked in SQL), plain values instead of ORM objects."""
    row = session.execute(
        _TOKEN_HOLDER, {"digest": _digest(raw), "kind": kind, "now": utcnow()}
    ).first()
    return None if row is None else TokenHolder(*row)


def revoke_token(session: Session, raw: str) -> None:
    token = session.execute(
        select(AuthToken).where(AuthToken.token_hash == _digest(raw))
    ).scalar_one_or_none()
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


def csrf_token(secret: str, binding: str) -> str:
    """The CSRF token for forms of one browser: an HMAC of its session (or pre-session) cookie."""
    return hmac.new(secret.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, binding: str | None, submitted: str | None) -> bool:
    if not binding or not submitted:
        return False
    return hmac.compare_digest(csrf_token(secret, binding), submitted)
