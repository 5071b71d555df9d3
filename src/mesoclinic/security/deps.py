"""FastAPI dependencies: the request's transaction, who is calling, and what they may do.

Every route declares `Depends(require(Permission.X))` (or is listed as public); a test walks the
routes to make sure none is missed.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session

from mesoclinic.config import Settings
from mesoclinic.db import read_unit_of_work
from mesoclinic.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from mesoclinic.security import idempotency, service
from mesoclinic.security.actor import Actor
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


async def _settings_dependency(request: Request) -> Settings:
    """`get_settings` as a dependency (async: it does no I/O, so it costs no thread hop)."""
    return get_settings(request)


SettingsDep = Annotated[Settings, Depends(_settings_dependency)]

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


def _snapshot(holder: service.TokenHolder) -> SignedInUser:
    return SignedInUser(
        holder.id,
        holder.username,
        holder.display_name,
        holder.role,
        holder.clinic_id,
        holder.patient_id,
        True,  # resolve_token_holder finds active accounts only
        holder.clinic_timezone,
    )


async def submitted_tokens(request: Request) -> tuple[str | None, str | None]:
    """The CSRF token (header or form field) and the one-time form token (rendered in every
    form) sent with an unsafe request; (None, None) for a read. No database work; one
    dependency for both, as FastAPI's solving of each dependency costs every request."""
    if request.method not in UNSAFE_METHODS:
        return None, None
    return await _submitted_csrf(request), await _submitted_form_token(request)


async def _submitted_form_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get(idempotency.FORM_TOKEN_FIELD)
    if not isinstance(value, str) or not 0 < len(value) <= idempotency.MAX_KEY_LENGTH:
        return None
    return value


def authenticate(
    request: Request,
    session: DbSession,
    tokens: Annotated[tuple[str | None, str | None], Depends(submitted_tokens)],
) -> SignedInUser | None:
    """The user behind a bearer token or the web session cookie, CSRF-checked for cookies.

    A plain `def` on purpose: FastAPI runs it in the thread pool, so waiting for a database
    lock never blocks the event loop (which the lock holder needs in order to finish).
    """
    cached: SignedInUser | None = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    holder: service.TokenHolder | None = None
    if header.lower().startswith("bearer "):
        holder = service.resolve_token_holder(session, header[7:].strip(), "api")
        if holder is None:
            raise Unauthenticated("The bearer token is invalid or has expired")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        holder = service.resolve_token_holder(session, cookie, "web")
        if holder is not None and request.method in UNSAFE_METHODS:
            submitted, form_token = tokens
            secret = get_settings(request).resolved_secret_key
            if not service.csrf_valid(secret, cookie, submitted):
                raise Forbidden(
                    "The form has expired or did not come from this site "
                    "(CSRF check failed); reload the page and try again"
                )
            if form_token:
                # submit_form claims it in this transaction, so a double submit saves once.
                session.info[idempotency.FORM_TOKEN_INFO] = (holder.id, form_token)
    if holder is None:
        return None
    snapshot = _snapshot(holder)
    request.state.user = snapshot
    if snapshot.timezone:
        request.state.timezone = snapshot.timezone
    return snapshot


CurrentUser = Annotated[SignedInUser | None, Depends(authenticate)]


def _actor(request: Request, user: SignedInUser) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
        client_addr=client_addr(request),
    )


def signed_in_actor(request: Request) -> Actor | None:
    """Who made this request, once authenticated (even if their role was then refused)."""
    user: SignedInUser | None = getattr(request.state, "user", None)
    return _actor(request, user) if user is not None else None


def require(permission: Permission | StrEnum) -> Callable[..., Any]:
    """A dependency that returns the calling Actor if their role holds `permission`."""

    # async: a permission check does no I/O, so it costs no thread-pool hop.
    async def dependency(request: Request, user: CurrentUser) -> Actor:
        if user is None:
            raise Unauthenticated()
        actor = _actor(request, user)
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


@dataclass(frozen=True)
class IdempotencyRequest:
    """An API create's `Idempotency-Key` (None: not sent) and the request's fingerprint."""

    key: str | None
    fingerprint: str


IDEMPOTENCY_HELP = (
    "Any unique value (up to 200 characters) per create: the same key with the same body "
    "answers with the first response, with another body 422, while the first is running 409 "
    "(IETF draft httpapi-idempotency-key-header); keys expire after 24 hours."
)


async def idempotency_request(
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=202, description=IDEMPOTENCY_HELP)
    ] = None,
) -> IdempotencyRequest:
    """The `Idempotency-Key` header (a quoted string per the draft, quotes optional)."""
    if idempotency_key is None:
        return IdempotencyRequest(None, "")
    key = idempotency_key.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 0 < len(key) <= idempotency.MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters", "Idempotency-Key")
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
    await _digest_body(request, digest)
    return IdempotencyRequest(key, digest.hexdigest())


async def _digest_body(request: Request, digest: Any) -> None:
    """Hash the body; a multipart upload by its parts, as each client picks its own boundary."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        digest.update(await request.body())
        return
    for name, value in sorted((await request.form()).multi_items(), key=lambda item: item[0]):
        digest.update(f"\n{len(name)}:{name}=".encode())
        if isinstance(value, str):
            digest.update(f"text {len(value)}:{value}".encode())
        else:  # an UploadFile: its name, type and bytes, read in chunks
            digest.update(f"file {value.filename}|{value.content_type}:".encode())
            await value.seek(0)
            while chunk := await value.read(1 << 20):
                digest.update(chunk)
            await value.seek(0)


Idempotency = Annotated[IdempotencyRequest, Depends(idempotency_request)]


def _dump(model: BaseModel | Sequence[BaseModel]) -> str:
    if isinstance(model, BaseModel):
        return model.model_dump_json()
    if not model:
        return "[]"
    # One serialiser call for the whole list (hundreds of appointments), not one per item.
    return _list_adapter(type(model[0])).dump_json(list(model)).decode()


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def created_once(
    session: Session,
    actor: Actor,
    once: IdempotencyRequest,
    make: Callable[[], tuple[BaseModel | Sequence[BaseModel], str]],
    *,
    status_code: int = 201,
) -> Response:
    """A create's answer (201, body and Location), done once per `Idempotency-Key`.

    `make` does the work and returns the read schema (or a list of them) and its URL ("" for
    none). With a key, the key is claimed in the request's transaction first; a replay with the
    same body gets the stored answer. `status_code`: 202 for queued jobs, 200 for stock changes.
    """
    if once.key is None or actor.user_id is None:
        model, location = make()
        return _created(_dump(model), location, status_code)
    first = idempotency.claim(session, actor.user_id, idempotency.API, once.key, once.fingerprint)
    if first is not None:
        if first.request_hash != once.fingerprint:
            raise InvalidInput(
                "This Idempotency-Key was already used with a different request; "
                "use a new key for a new request",
                "Idempotency-Key",
            )
        if first.status_code is None or first.body is None:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly",
                "Idempotency-Key",
                code="idempotency_key_in_use",
            )
        replay = _created(first.body, first.location or "", first.status_code)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    model, location = make()
    body = _dump(model)
    idempotency.settle(
        session,
        actor.user_id,
        idempotency.API,
        once.key,
        status_code=status_code,
        location=location,
        body=body,
    )
    return _created(body, location, status_code)


def json_answer(model: BaseModel | Sequence[BaseModel]) -> Response:
    """A 200 with the model's (or list's) JSON, for hot reads whose route declares
    `response_model` (still what the OpenAPI document shows).

    Returning a Response skips FastAPI's response-model step, which for a plain `def` route
    validates the returned model again in the thread pool (one more thread hop) before
    serialising it: the model here was just built from trusted rows.
    """
    return Response(_dump(model), media_type="application/json")


def _created(body: str, location: str, status_code: int = 201) -> Response:
    headers = {"Location": location} if location else {}
    return Response(body, status_code, headers=headers, media_type="application/json")
