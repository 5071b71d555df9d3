"""FastAPI application factory: database, routers, error handlers, static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from mesoclinic import __version__, areas, migrate, startup
from mesoclinic.config import Settings, get_settings
from mesoclinic.db import is_overload, make_engine, make_sessionmaker, unit_of_work
from mesoclinic.errors import DomainError, InvalidInput, NotFound, Overloaded
from mesoclinic.fhir.bundles import operation_outcome
from mesoclinic.fhir.codes import FHIR_JSON
from mesoclinic.schemas_common import ERROR_RESPONSES
from mesoclinic.security import audit
from mesoclinic.security.deps import READ_METHODS, signed_in_actor
from mesoclinic.web import pages as dashboard_pages
from mesoclinic.web.admission import Admission
from mesoclinic.web.forms import refuse_nul_bytes
from mesoclinic.web.security_headers import SecurityHeaders
from mesoclinic.web.templating import STATIC_DIR, render

API_PREFIXES = ("/api/", "/fhir/", "/healthz")
log = logging.getLogger(__name__)
FHIR_PREFIX = "/fhir"


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    """Build the app; migrations are applied on start-up unless the caller already did."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url, **settings.engine_options)
    if run_migrations:
        migrate.upgrade(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="mesoclinic",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_bytes)],
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        description="Scalp mesotherapy clinic API. Authenticate with a bearer token "
        "from POST /api/v1/auth/token.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    for module in areas.router_modules():
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(dashboard_pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_middleware(
        Admission,
        slots=settings.max_concurrent_requests,
        write_slots=settings.write_slots,
        queue_seconds=settings.request_queue_seconds,
        max_queued=settings.max_queued_requests,
        shed=_shed,
    )
    app.add_middleware(SecurityHeaders, secure_cookies=settings.cookie_secure)
    _install_error_handlers(app)
    return app


def create_worker_app() -> FastAPI:
    """The app of one `mesoclinic serve --workers N` process, built from the environment's
    settings; the parent process has already migrated the database."""
    with startup.loading():
        return create_app(run_migrations=False)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def is_fhir(request: Request) -> bool:
    path = request.url.path
    return path == FHIR_PREFIX or path.startswith(f"{FHIR_PREFIX}/")


def fhir_error(
    status: int, message: str, expression: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """Every error under /fhir is an OperationOutcome (never FastAPI's own JSON shape)."""
    return JSONResponse(
        operation_outcome(status, message, expression),
        status_code=status,
        headers=headers,
        media_type=FHIR_JSON,
    )


def _audit_refused_read(request: Request, status: int) -> None:
    """Record a signed-in user's refused read of a record named in the path (issue 16, item 18),
    in its own transaction: the request's own was rolled back with the error."""
    actor = signed_in_actor(request)
    if actor is None or not request.path_params:
        return
    route = getattr(request.scope.get("route"), "path", request.url.path)
    ids = {k: str(v)[:64] for k, v in request.path_params.items()}
    with unit_of_work(request.app.state.sessionmaker) as session:
        audit.record_refused_read(session, actor, route=route, status=status, path_ids=ids)


# Seconds a shed request is told to wait before trying again.
SHED_RETRY_AFTER_S = 5


def domain_error_response(request: Request, exc: DomainError) -> Response:
    """The one JSON or HTML shape of an error a user (or the load) caused."""
    retry = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
    if is_fhir(request):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else retry
        return fhir_error(exc.status, exc.message, exc.field, headers)
    if wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else retry
        return JSONResponse(
            error_body(exc.code, exc.message, exc.field, **exc.extra),
            status_code=exc.status,
            headers=headers,
        )
    if exc.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    response = render(request, "error.html", {"error": exc}, status_code=exc.status)
    response.headers.update(retry or {})
    return response


async def _shed(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request the admission queue could not take: 503, nothing done."""
    log.warning("shed %s %s: the server is saturated", scope["method"], scope["path"])
    busy = Overloaded(
        "The clinic system is busy; nothing was done. Try again in a few seconds.",
        retry_after_s=SHED_RETRY_AFTER_S,
    )
    await domain_error_response(Request(scope, receive), busy)(scope, receive, send)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if exc.status in (403, 404) and request.method in READ_METHODS:
            await run_in_threadpool(_audit_refused_read, request, exc.status)
        return domain_error_response(request, exc)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> Response:
        # The request's transaction has been rolled back by the time this runs (the error left
        # its `session.begin()` block), so a busy database is a 503 with nothing stored.
        if not is_overload(exc):
            raise exc
        log.warning("%s %s: database busy: %s", request.method, request.url.path, exc)
        return domain_error_response(request, Overloaded())

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid input"}
        field = _field_of(tuple(first.get("loc", ())))
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        if is_fhir(request):
            in_query = any(e.get("loc", ("",))[0] == "query" for e in exc.errors())
            return fhir_error(400 if in_query else 422, message, field)
        if not wants_json(request):
            # A page's malformed id names nothing that exists; other bad parameters are shown
            # on the error page, in the layout, rather than as raw JSON.
            in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
            error = (
                NotFound("This page does not exist") if in_path else InvalidInput(message, field)
            )
            return render(request, "error.html", {"error": error}, status_code=error.status)
        details = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid", message, field, details=details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_fhir(request):
            return fhir_error(exc.status_code, str(exc.detail))
        if wants_json(request):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
            return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)
        error = DomainError(str(exc.detail), code="error", status=exc.status_code)
        return render(request, "error.html", {"error": error}, status_code=exc.status_code)
