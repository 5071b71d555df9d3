"""The patient's Outcomes tab: marked sites and measurements, with forms that work without
JavaScript (each change posts, then redirects back; refusals re-render with the field's error)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from mesoclinic.db import utcnow
from mesoclinic.errors import NotFound
from mesoclinic.outcomes import display, pairs, service, sites
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.models import Measurement, MeasurementSite
from mesoclinic.outcomes.schemas import (
    LOCATION_LABELS,
    MeasurementCorrection,
    MeasurementCreate,
    SiteCreate,
    SiteUpdate,
    VoidRequest,
)
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.pages import patient_page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import PostedForm, form_values, local_to_utc, submit_form, validate
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]
M = TypeVar("M", bound=BaseModel)
RECENT_ROWS = 4  # per kind and site; older values fold under "Earlier values"


def _book(request: Request) -> KindBook:
    return load_kinds(request.app.state.settings.measurement_kinds)


def _overview(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    failed: tuple[str, dict[str, Any], dict[str, str]] | None = None,
) -> Response:
    """The tab; `failed` is (form key, posted values, field errors) of a refused form."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    book = _book(request)
    marked = sites.list_for(session, actor, patient.id)
    query = service.MeasurementQuery(include_voided=True, include_superseded=True)
    rows = service.list_for(session, actor, patient.id, query)
    form, values, errors = failed or ("", {}, {})
    ctx: dict[str, Any] = {
        "sites": marked,
        "active_sites": [s for s in marked if s.status == "active"],
        "groups": display.group_measurements(rows, marked, book),
        "names": service.recorder_names(session, {m.recorded_by for m in rows}),
        "provenance": display.provenance,
        "state": display.state,
        "unit_words": display.unit_words,
        "label_words": display.label_words,
        "shown": lambda m: display.shown(m, book),
        "recent": RECENT_ROWS,
        "kinds": book.kinds,
        "locations": LOCATION_LABELS,
        "can_write": actor.can(Permission.OUTCOME_WRITE) and patient.status == "active",
        "latest_follow_ups": pairs.latest_follow_up_by_site(session, patient.id),
        "form": form,
        "values": values,
        "errors": errors,
    }
    return patient_page(
        request,
        actor,
        patient,
        "outcomes",
        "outcomes/overview.html",
        ctx,
        status_code=422 if failed else 200,
    )


def _tab_url(patient_id: uuid.UUID, anchor: str = "") -> str:
    return f"/patients/{patient_id}/outcomes" + (f"#{anchor}" if anchor else "")


def _same_patient(
    session: Session, actor: Actor, model: type[Any], record_id: uuid.UUID, patient_id: uuid.UUID
) -> None:
    # A record id under another patient's URL is treated as absent, not acted on.
    record = patient_service.load_owned(
        session, actor, model, record_id, Permission.OUTCOME_WRITE, "Record"
    )
    if record.patient_id != patient_id:
        raise NotFound("Record not found")


@router.get("/patients/{patient_id}/outcomes", response_class=HTMLResponse)
def outcomes_tab(
    request: Request, patient_id: uuid.UUID, session: DbSession, actor: Reader
) -> Response:
    return _overview(request, session, actor, patient_id)


@router.post("/patients/{patient_id}/outcomes/sites", response_class=HTMLResponse)
def add_site(
    request: Request, form: PostedForm, patient_id: uuid.UUID, session: DbSession, actor: Writer
) -> Response:
    values = form_values(form)
    values["clipped"] = values.get("clipped") == "on"
    data, errors = validate(SiteCreate, values)

    def save(data: SiteCreate) -> Response:
        site = sites.create(session, actor, patient_id, data)
        return redirect(_tab_url(patient_id, f"site-{site.id}"), f"Site {site.label} marked.")

    def show_form(errors: dict[str, str]) -> Response:
        return _overview(request, session, actor, patient_id, ("site-new", values, errors))

    return submit_form(session, data, errors, save, show_form)


@dataclass
class _Change:
    """A posted change to one of the patient's sites or measurements (edit, void, correct)."""

    request: Request
    form: PostedForm
    session: Session
    actor: Actor
    patient_id: uuid.UUID
    values: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.values = form_values(self.form)

    def answer(
        self,
        model: type[MeasurementSite] | type[Measurement],
        object_id: uuid.UUID,
        schema: type[M],
        form_key: str,
        apply: Callable[[M], tuple[str, str]],
    ) -> Response:
        """`apply(data)` makes the change and returns (anchor on the tab, message); a refusal
        re-renders the tab with the form `form_key` and its errors."""
        _same_patient(self.session, self.actor, model, object_id, self.patient_id)
        data, errors = validate(schema, self.values)

        def save(data: M) -> Response:
            anchor, message = apply(data)
            return redirect(_tab_url(self.patient_id, anchor), message)

        def show_form(errors: dict[str, str]) -> Response:
            failed = (form_key, self.values, errors)
            return _overview(self.request, self.session, self.actor, self.patient_id, failed)

        return submit_form(self.session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/outcomes/sites/{site_id}", response_class=HTMLResponse)
def edit_site(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    site_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
) -> Response:
    def apply(data: SiteUpdate) -> tuple[str, str]:
        sites.update(session, actor, site_id, data)
        return f"site-{site_id}", "Site updated."

    change = _Change(request, form, session, actor, patient_id)
    change.values["clipped"] = change.values.get("clipped") == "on"
    return change.answer(MeasurementSite, site_id, SiteUpdate, f"site-{site_id}", apply)


@router.post("/patients/{patient_id}/outcomes/sites/{site_id}/void", response_class=HTMLResponse)
def void_site(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    site_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
) -> Response:
    def apply(data: VoidRequest) -> tuple[str, str]:
        sites.void(session, actor, site_id, data.reason)
        return "", "Site marked as entered in error."

    change = _Change(request, form, session, actor, patient_id)
    return change.answer(MeasurementSite, site_id, VoidRequest, f"void-site-{site_id}", apply)


def measurement_values(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    """The posted measurement form as a MeasurementCreate body (clinic-local time)."""
    body: dict[str, Any] = {
        k: values[k]
        for k in ("kind", "value", "unit", "site_id", "device_name", "rater", "note")
        if k in values
    }
    if "rater" in body:
        body["blinded"] = values.get("blinded") == "on"
    measured = values.get("measured_at")
    body["measured_at"] = local_to_utc(request, measured) if measured else _now_iso()
    return body


def _now_iso() -> str:
    return utcnow().isoformat()


@router.post("/patients/{patient_id}/outcomes/measurements", response_class=HTMLResponse)
def add_measurement(
    request: Request, form: PostedForm, patient_id: uuid.UUID, session: DbSession, actor: Writer
) -> Response:
    values = form_values(form)
    data, errors = validate(MeasurementCreate, measurement_values(request, values))

    def save(data: MeasurementCreate) -> Response:
        m = service.create(session, actor, patient_id, data, _book(request))
        return redirect(_tab_url(patient_id, f"m-{m.id}"), "Measurement recorded.")

    def show_form(errors: dict[str, str]) -> Response:
        return _overview(request, session, actor, patient_id, ("measurement-new", values, errors))

    return submit_form(session, data, errors, save, show_form)


@router.post(
    "/patients/{patient_id}/outcomes/measurements/{measurement_id}/void",
    response_class=HTMLResponse,
)
def void_measurement(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    measurement_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
) -> Response:
    def apply(data: VoidRequest) -> tuple[str, str]:
        service.void(session, actor, measurement_id, data.reason)
        return f"m-{measurement_id}", "Value marked as entered in error."

    change = _Change(request, form, session, actor, patient_id)
    return change.answer(Measurement, measurement_id, VoidRequest, f"void-{measurement_id}", apply)


@router.post(
    "/patients/{patient_id}/outcomes/measurements/{measurement_id}/correct",
    response_class=HTMLResponse,
)
def correct_measurement(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    measurement_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
) -> Response:
    def apply(data: MeasurementCorrection) -> tuple[str, str]:
        m = service.correct(session, actor, measurement_id, data, _book(request))
        return f"m-{m.id}", "Correction saved."

    change = _Change(request, form, session, actor, patient_id)
    key = f"correct-{measurement_id}"
    return change.answer(Measurement, measurement_id, MeasurementCorrection, key, apply)
