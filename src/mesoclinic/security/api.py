"""JSON routes: tokens, the caller's own account, users and the audit log; health check."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from mesoclinic import __version__, migrate
from mesoclinic.errors import TooManyAttempts, Unauthenticated
from mesoclinic.schemas_common import Page, UtcDatetime
from mesoclinic.security import audit, service
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import (
    SESSION_COOKIE,
    DbSession,
    Idempotency,
    PageOffset,
    SettingsDep,
    client_addr,
    created_once,
    public,
    require,
)
from mesoclinic.security.permissions import Permission
from mesoclinic.security.schemas import (
    AuditEntryRead,
    Health,
    SessionsEnded,
    TokenRead,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserRead,
)

router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["system"])
@public
def healthz(request: Request) -> Health:
    """Liveness plus the database schema version (read at most every 30 s)."""
    return Health(status="ok", version=__version__, schema_version=_schema_version(request))


SCHEMA_VERSION_SECONDS = 30.0


def _schema_version(request: Request) -> str:
    """The schema version, cached on the app: a probe hitting /healthz every second must not
    open a write transaction on SQLite each time (the version changes only by a migration)."""
    state = request.app.state
    cached: tuple[float, str] | None = getattr(state, "schema_version", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > SCHEMA_VERSION_SECONDS:
        cached = (now, migrate.current_revision(state.engine))
        state.schema_version = cached
    return cached[1]


@router.post("/api/v1/auth/token", response_model=TokenResponse, tags=["auth"])
@public
def create_token(body: TokenRequest, request: Request, settings: SettingsDep) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    factory = request.app.state.sessionmaker
    with factory() as session, session.begin():  # committed even when the login fails
        result = service.attempt_login(
            session,
            username=body.username,
            password=body.password,
            client_addr=client_addr(request),
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
        )
        raw = None
        if result.user is not None:
            raw, _token = service.issue_token(
                session,
                result.user,
                kind="api",
                lifetime=timedelta(minutes=settings.token_minutes),
                client_addr=client_addr(request),
            )
    if result.locked:
        raise TooManyAttempts("Too many failed logins; try again later", result.retry_after_s)
    if raw is None:
        raise Unauthenticated("Wrong username or password")
    return TokenResponse(access_token=raw, expires_in=settings.token_minutes * 60)


def _presented_token(request: Request) -> str:
    """The raw bearer token or session cookie this request was authenticated with."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE, "")


@router.delete("/api/v1/auth/token", status_code=204, tags=["auth"])
def revoke_token(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.SELF))],
) -> Response:
    """End the token (or browser session) this request is made with."""
    service.revoke_token(session, _presented_token(request))
    audit.record(session, actor, "revoke_token", "user", actor.user_id)
    return Response(status_code=204)


@router.get("/api/v1/auth/tokens", response_model=list[TokenRead], tags=["auth"])
def list_tokens(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.SELF))],
) -> list[TokenRead]:
    """The caller's own live sessions and API tokens (never their secrets)."""
    current = service.token_id_of(session, _presented_token(request))
    return [
        TokenRead.model_validate(t).model_copy(update={"current": t.id == current})
        for t in service.active_tokens(session, actor)
    ]


@router.delete("/api/v1/auth/tokens/{token_id}", status_code=204, tags=["auth"])
def revoke_own_token(
    token_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.SELF))],
) -> Response:
    """End one of the caller's own sessions or tokens (by its id from the list)."""
    service.revoke_own_token(session, actor, token_id)
    audit.record(session, actor, "revoke_token", "user", actor.user_id)
    return Response(status_code=204)


@router.post("/api/v1/users/{user_id}/end-sessions", response_model=SessionsEnded, tags=["admin"])
def end_sessions(
    user_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.USERS_MANAGE))],
) -> SessionsEnded:
    """Sign a user out everywhere: every web session and API token ends now."""
    return SessionsEnded(ended=service.end_sessions(session, actor, user_id))


@router.get("/api/v1/me", response_model=UserRead, tags=["auth"])
def me(request: Request, actor: Annotated[Actor, Depends(require(Permission.SELF))]) -> UserRead:
    """The signed-in user's own account."""
    return UserRead.model_validate(request.state.user)


@router.get("/api/v1/users", response_model=list[UserRead], tags=["admin"])
def list_users(
    session: DbSession, actor: Annotated[Actor, Depends(require(Permission.USERS_MANAGE))]
) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(session, actor)]


@router.post("/api/v1/users", response_model=UserRead, status_code=201, tags=["admin"])
def create_user(
    body: UserCreate,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.USERS_MANAGE))],
    once: Idempotency,
) -> Response:
    """Add a staff account: a group admin has no clinic; a clinic admin adds to their own."""

    def make() -> tuple[UserRead, str]:
        user = service.create_user(
            session,
            actor,
            username=body.username,
            role=body.role,
            password=body.password,
            clinic_id=body.clinic_id,
            display_name=body.display_name,
            email=body.email,
        )
        return UserRead.model_validate(user), ""

    return created_once(session, actor, once, make)


@router.get("/api/v1/audit", response_model=Page[AuditEntryRead], tags=["admin"])
def list_audit(
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.AUDIT_READ))],
    actor_username: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    patient_id: uuid.UUID | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: PageOffset = 0,
) -> Page[AuditEntryRead]:
    """Browse the audit log, newest first, with filters."""
    filt = audit.AuditFilter(
        actor_username, action, entity_type, entity_id, patient_id, since, until
    )
    rows, total = audit.search(session, actor, filt, limit=limit, offset=offset)
    return Page(
        items=[AuditEntryRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
