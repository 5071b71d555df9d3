"""Jinja2 rendering shared by every area's pages: layout globals, CSRF token, flash messages."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import HTMLResponse, RedirectResponse

from mesoclinic.security import service
from mesoclinic.security.deps import PRE_SESSION_COOKIE, SESSION_COOKIE
from mesoclinic.web.navigation import can, nav_items

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["nav_items"] = nav_items
templates.env.globals["can"] = can
FLASH_COOKIE = "mc_flash"


# The flash cookie must carry no patient data, so a message names its patient by these
# tokens, filled in from the page it lands on (plain replacement: the cookie is user input
# and must never reach str.format).
PATIENT_NAME = "{patient}"
PATIENT_RECORD = "{record}"


@pass_context
def _flashes(context: Any, request: Request) -> list[str]:
    message = request.cookies.get(FLASH_COOKIE)
    if not message:
        return []
    text = unquote(message)
    patient = context.get("patient")
    name = getattr(patient, "full_name", None) or "the patient"
    record = getattr(patient, "record_number", None) or "a new record"
    return [text.replace(PATIENT_NAME, name).replace(PATIENT_RECORD, record)]


templates.env.globals["flashes"] = _flashes


def redirect(url: str, message: str | None = None) -> RedirectResponse:
    """A 303 redirect after a successful form, with an optional one-time message."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE, quote(message), max_age=60, httponly=True, samesite="lax", secure=False
        )
    return response


def csrf_for(request: Request) -> str:
    """The CSRF token to put in this browser's forms."""
    binding = (
        request.cookies.get(SESSION_COOKIE)
        or getattr(request.state, "pre_session", None)
        or request.cookies.get(PRE_SESSION_COOKIE)
        or ""
    )
    return service.csrf_token(request.app.state.settings.resolved_secret_key, binding)


def _local(value: datetime | None, request: Request, fmt: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return ""
    tz = getattr(request.state, "timezone", None) or request.app.state.settings.default_timezone
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def _day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the layout's globals (user, role, CSRF token, clinic time zone)."""
    ctx: dict[str, Any] = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "actor": getattr(request.state, "actor", None),
        "csrf_token": csrf_for(request),
        # A fresh one-time token per form rendered (security.idempotency): a double submit of
        # the same form saves once.
        "form_token": lambda: secrets.token_urlsafe(24),
        "local": lambda v, fmt="%d %b %Y %H:%M": _local(v, request, fmt),
        "day": _day,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
    pre = getattr(request.state, "pre_session", None)
    if pre:
        response.set_cookie(
            PRE_SESSION_COOKIE,
            pre,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.cookie_secure,
        )
    return response
