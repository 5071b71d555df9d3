"""FastAPI dependencies: the request's transaction, who is calling, and what they may do.

Every route declares `Depends(require(Permission.X))` (or is listed as public); a test walks the
routes to make sure none is missed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from mesoclinic.config import Settings
from mesoclinic.db import read_unit_of_work
from mesoclinic.errors import Forbidden, Unauthenticated
from mesoclinic.security import service
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic, User
from mesoclinic.security.permissions import Permission, Role

SESSION_COOKIE = "mc_session"
PRE_SESSION_COOKIE = "mc_pre"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})


def get_db(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed before the response, rolled back on error.

    GET and HEAD only read patient data: on SQLite they run without the write lock and write
    their audit entries in a short transaction at the end (`read_unit_of_work`), so one slow
    page no longer stalls every other request. Unsafe methods keep one IMMEDIATE transaction.
    """
    factory = request.app.state.sessionmaker
    if request.method in READ_METHODS:
        with read_unit_of_work(factory) as session:
            yield session
        return
    with factory() as session, session.begin():
        yield session


# scope="function" commits before the response is sent, so a failed commit is never a 200.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]

# Every list's paging offset, API and pages: the databases cannot bind an integer past 2**63,
# and no list a person pages through holds more rows than this.
MAX_OFFSET = 10_000_000
PageOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True)
class SignedInUser:
    """A snapshot of the caller's account, safe to use after the transaction has ended."""

    id: uuid.UUID
    username: str
    display_name: str
    role: str
    clinic_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    active: bool
    timezone: str | None


def _snapshot(session: Session, user: User) -> SignedInUser:
    clinic = session.get(Clinic, user.clinic_id) if user.clinic_id else None
    return SignedInUser(
        user.id,
        user.username,
        user.display_name,
        user.role,
        user.clinic_id,
        user.patient_id,
        user.active,
        clinic.timezone if clinic else None,
    )


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with an unsafe request (header or form field); no database work."""
    if request.method not in UNSAFE_METHODS:
        return None
    return await _submitted_csrf(request)


def authenticate(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    submitted: Annotated[str | None, Depends(submitted_csrf)],
) -> SignedInUser | None:
    """The user behind a bearer token or the web session cookie, CSRF-checked for cookies.

    A plain `def` on purpose: FastAPI runs it in the thread pool, so waiting for a database
    lock never blocks the event loop (which the lock holder needs in order to finish).
    """
    cached: SignedInUser | None = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    user: User | None = None
    if header.lower().startswith("bearer "):
        user = service.resolve_token(session, header[7:].strip(), "api")
        if user is None:
            raise Unauthenticated("The bearer token is invalid or has expired")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        user = service.resolve_token(session, cookie, "web")
        if user is not None and request.method in UNSAFE_METHODS:
            if not service.csrf_valid(settings.resolved_secret_key, cookie, submitted):
                raise Forbidden(
                    "The form has expired or did not come from this site "
                    "(CSRF check failed); reload the page and try again"
                )
    if user is None:
        return None
    snapshot = _snapshot(session, user)
    request.state.user = snapshot
    if snapshot.timezone:
        request.state.timezone = snapshot.timezone
    return snapshot


CurrentUser = Annotated[SignedInUser | None, Depends(authenticate)]


def require(permission: Permission | StrEnum) -> Callable[..., Any]:
    """A dependency that returns the calling Actor if their role holds `permission`."""

    def dependency(request: Request, user: CurrentUser) -> Actor:
        if user is None:
            raise Unauthenticated()
        actor = Actor(
            user_id=user.id,
            username=user.username,
            role=Role(user.role),
            clinic_id=user.clinic_id,
            patient_id=user.patient_id,
            client_addr=client_addr(request),
        )
        actor.require(permission)
        request.state.actor = actor
        return actor

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.value.replace(':', '_')}"
    return dependency


def Allowed(permission: Permission | StrEnum) -> Any:  # noqa: N802 - reads as a type in signatures
    """Use as `actor: Annotated[Actor, Allowed(Permission.X)]` in a route's signature."""
    return Depends(require(permission))


def public(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a route as deliberately open to anonymous callers (login, health)."""
    func.is_public = True  # type: ignore[attr-defined]
    return func
