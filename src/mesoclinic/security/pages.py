"""HTML pages: sign in and out, and the admin's audit-log browser."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.schemas_common import DateInRange, Page
from mesoclinic.security import audit, service
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    DbSession,
    PageOffset,
    SettingsDep,
    client_addr,
    public,
    require,
)
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import PostedForm, submit_form
from mesoclinic.web.templating import redirect, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
@public
def login_page(request: Request, user: CurrentUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    if not request.cookies.get(PRE_SESSION_COOKIE):
        request.state.pre_session = secrets.token_urlsafe(24)
    return render(request, "security/login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
@public
def login(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    pre = request.cookies.get(PRE_SESSION_COOKIE)
    if not service.csrf_valid(settings.resolved_secret_key, pre, csrf_token):
        request.state.pre_session = pre or secrets.token_urlsafe(24)
        return render(
            request,
            "security/login.html",
            {
                "error": "The sign-in form expired; please try again.",
                "username": username,
                "next": _safe_next(next),
            },
            status_code=403,
        )
    factory = request.app.state.sessionmaker
    with factory() as session, session.begin():  # committed even when the login fails
        result = service.attempt_login(
            session,
            username=username,
            password=password,
            client_addr=client_addr(request),
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
        )
        raw = None
        if result.user is not None:
            raw, _ = service.issue_token(
                session,
                result.user,
                kind="web",
                lifetime=timedelta(hours=settings.session_hours),
                client_addr=client_addr(request),
            )
    if raw is None:
        message = (
            f"Too many failed sign-ins. Try again in {max(1, result.retry_after_s // 60)} minutes."
            if result.locked
            else "Wrong username or password."
        )
        return render(
            request,
            "security/login.html",
            {"error": message, "username": username, "next": _safe_next(next)},
            status_code=429 if result.locked else 401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    response.delete_cookie(PRE_SESSION_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request, session: DbSession, actor: Annotated[Actor, Depends(require(Permission.SELF))]
) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        service.revoke_token(session, raw)
    audit.record(session, actor, "logout", "user", actor.user_id)
    response = redirect("/login", "You are signed out.")
    response.delete_cookie(SESSION_COOKIE)
    return response


def _day_start(value: date | None) -> datetime | None:
    return datetime(value.year, value.month, value.day, tzinfo=UTC) if value else None


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.AUDIT_READ))],
    actor_username: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    patient_id: uuid.UUID | None = None,
    since: DateInRange | None = None,
    until: DateInRange | None = None,
    offset: PageOffset = 0,
) -> Response:
    """Browse and filter the audit log."""
    until_dt = _day_start(until)
    filt = audit.AuditFilter(
        actor_username or None,
        action or None,
        entity_type or None,
        None,
        patient_id,
        _day_start(since),
        until_dt + timedelta(days=1) if until_dt else None,
    )
    rows, total = audit.search(session, actor, filt, limit=100, offset=offset)
    query = {
        k: v
        for k, v in {
            "actor_username": actor_username,
            "action": action,
            "entity_type": entity_type,
            "patient_id": patient_id,
            "since": since,
            "until": until,
        }.items()
        if v
    }
    return render(
        request,
        "security/audit.html",
        {
            "page": Page(items=list(rows), total=total, limit=100, offset=offset),
            "filters": filt,
            "since": since,
            "until": until,
            "query_base": "/admin/audit?" + urlencode(query),
        },
    )


ROLE_CHOICES = [
    ("clinician", "Clinician"),
    ("nurse", "Nurse"),
    ("reception", "Reception"),
    ("clinic_admin", "Clinic administrator"),
    ("admin", "Group administrator (no clinic)"),
]


def _role_choices(actor: Actor) -> list[tuple[str, str]]:
    """The roles this administrator may give: only a group admin makes another."""
    return [c for c in ROLE_CHOICES if actor.is_group_admin or c[0] != "admin"]


def _clinics_for(session: Session, actor: Actor) -> list[Clinic]:
    """The clinics shown in the form: every one to a group admin, one's own otherwise."""
    return [
        c for c in service.list_clinics(session) if actor.is_group_admin or c.id == actor.clinic_id
    ]


def _users_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "security/users.html",
        {
            "users": service.list_users(session, actor),
            "clinics": _clinics_for(session, actor),
            "roles": _role_choices(actor),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    """Staff accounts of the group, and a form to add one."""
    return _users_page(request, session, actor, {}, {})


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    values = {
        k: str(form.get(k) or "").strip()
        for k in ("username", "display_name", "role", "clinic", "email")
    }
    password = str(form.get("password") or "")
    errors: dict[str, str] = {}
    if values["role"] not in dict(_role_choices(actor)):
        errors["role"] = "Choose a staff role (patient accounts are made from the patient page)"

    def save(values: dict[str, str]) -> Response:
        user = service.create_user(
            session,
            actor,
            username=values["username"],
            role=values["role"],
            password=password,
            clinic_name=values["clinic"] or None,
            display_name=values["display_name"],
            email=values["email"] or None,
        )
        return redirect("/admin/users", f"Added {user.role} {user.username}.")

    def show_form(errors: dict[str, str]) -> Response:
        return _users_page(request, session, actor, values, errors, status_code=422)

    return submit_form(session, None if errors else values, errors, save, show_form)


@router.post("/admin/users/{user_id}/end-sessions", response_class=HTMLResponse)
def end_sessions(
    user_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.USERS_MANAGE))],
) -> Response:
    """Sign a user out everywhere (a lost laptop, a leaked token, someone who left)."""
    ended = service.end_sessions(session, actor, user_id)
    # No username in the flash: a patient's username may carry their name.
    return redirect("/admin/users", f"Signed out everywhere: {ended} session(s) ended.")


@router.get("/account/password", response_class=HTMLResponse)
def password_page(
    request: Request, actor: Annotated[Actor, Depends(require(Permission.SELF))]
) -> Response:
    """The signed-in user's own password change form."""
    return render(request, "security/password.html", {"errors": {}})


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Depends(require(Permission.SELF))],
) -> Response:
    """Change one's own password; every session ends, this one too, so sign in again."""
    values = {k: str(form.get(k) or "") for k in ("current_password", "password", "confirm")}
    errors: dict[str, str] = {}
    if values["password"] != values["confirm"]:
        errors["confirm"] = "The two new passwords are not the same"

    def save(values: dict[str, str]) -> Response:
        service.change_own_password(
            session, actor, current=values["current_password"], new=values["password"]
        )
        response = redirect("/login", "Password changed: sign in again with the new one.")
        response.delete_cookie(SESSION_COOKIE)
        return response

    def show_form(errors: dict[str, str]) -> Response:
        return render(request, "security/password.html", {"errors": errors}, status_code=422)

    return submit_form(session, None if errors else values, errors, save, show_form)
