"""HTML form handling: validate posted fields with the same Pydantic schemas as the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from mesoclinic.errors import DomainError, InvalidInput
from mesoclinic.schemas_common import NUL_MESSAGE, has_nul, in_date_range
from mesoclinic.security import idempotency
from mesoclinic.web.plain_errors import plain_message
from mesoclinic.web.templating import redirect

M = TypeVar("M", bound=BaseModel)
D = TypeVar("D")


def form_values(form: FormData, *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """Posted fields without the CSRF and one-time form tokens; blank fields count as not given."""
    values: dict[str, Any] = {}
    for key in form.keys():
        if key in ("csrf_token", idempotency.FORM_TOKEN_FIELD):
            continue
        if key in lists:
            values[key] = [v for v in form.getlist(key) if isinstance(v, str) and v]
            continue
        value = form.get(key)
        if isinstance(value, str):
            value = value.strip()
            if value != "":
                values[key] = value
    return values


def validate(schema: type[M], values: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """The parsed model, or field -> message in plain words for each invalid field."""
    try:
        return schema.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
            name = loc[0] if loc else "__all__"
            errors.setdefault(name, plain_message(err))
        return None, errors


def submit_form(
    session: Session,
    data: D | None,
    errors: dict[str, str],
    save: Callable[[D], Response],
    show_form: Callable[[dict[str, str]], Response],
    *,
    once: bool = True,
) -> Response:
    """Answer a posted form: `save(data)` if the data is valid and the service accepts it,
    otherwise `show_form(errors)`.

    `save` runs in a savepoint: a service's refusal (a DomainError) undoes only what `save`
    wrote and becomes an error against its field; the request's earlier writes stay.

    The form's one-time token (see `security.idempotency`) is claimed in the same savepoint:
    the same form posted again, one after the other or at the same moment, saves nothing more
    and answers with the first post's redirect. A refused save frees the token with the rest.
    `once=False` is for posts that save nothing (a live preview of the form): they leave the
    token for the real submit.
    """
    token: tuple[Any, str] | None = session.info.get(idempotency.FORM_TOKEN_INFO) if once else None
    if data is not None:
        try:
            with session.begin_nested():
                if token is not None:
                    first = idempotency.claim(session, token[0], idempotency.FORM, token[1], "")
                    if first is not None:
                        return _replayed(first, show_form)
                response = save(data)
                if token is not None:
                    location = response.headers.get("location")
                    idempotency.settle(
                        session,
                        token[0],
                        idempotency.FORM,
                        token[1],
                        status_code=response.status_code,
                        location=location,
                    )
                return response
        except DomainError as exc:
            errors = {**errors, exc.field or "__all__": exc.message}
    return show_form(errors)


ALREADY_SENT = "This form was already sent and saved once; nothing was saved a second time."


def _replayed(
    first: idempotency.FirstAnswer, show_form: Callable[[dict[str, str]], Response]
) -> Response:
    """The answer to a form posted again: where the first post went, saying so."""
    if first.location:
        return redirect(first.location, ALREADY_SENT)
    return show_form({"__all__": ALREADY_SENT})


async def posted_form(request: Request) -> FormData:
    """The posted form, read in an async dependency so page handlers can be plain functions.

    FastAPI runs plain handlers in its thread pool; database calls inside an `async def`
    handler would block the event loop while another request holds a lock.
    """
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_nul_bytes(request: Request) -> None:
    """Every route's first dependency: no path, query or form text may carry NUL.

    JSON bodies are checked by `Schema` itself, against the field; files are bytes and may.
    """
    named = [*request.path_params.items(), *request.query_params.multi_items()]
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        named += [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    for name, value in named:
        if has_nul(name) or has_nul(value):
            raise InvalidInput(
                f"{name.replace(chr(0), '')} {NUL_MESSAGE}", name.replace(chr(0), "")
            )


def clinic_zone(request: Request) -> ZoneInfo:
    """The signed-in user's clinic time zone (the one pages show times in)."""
    name = getattr(request.state, "timezone", None) or request.app.state.settings.default_timezone
    return ZoneInfo(name)


def local_to_utc(request: Request, value: str) -> str:
    """A `datetime-local` form value (clinic time, no zone) as an ISO UTC time.

    Unparseable input is returned unchanged so the schema reports it against its field.
    """
    try:
        local = datetime.fromisoformat(value).replace(tzinfo=clinic_zone(request))
    except ValueError:
        return value
    if not in_date_range(local):
        # Converting could overflow; the schema refuses the date against its field.
        return local.isoformat()
    return local.astimezone(UTC).isoformat()
