"""HTML pages for patients: search, register, view with tabs, edit, void, history, consents."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import history as history_service
from mesoclinic.patients import service
from mesoclinic.patients.models import Patient
from mesoclinic.patients.schemas import (
    AllergyCreate,
    ConditionCreate,
    ConsentCreate,
    ConsentWithdraw,
    MedicationCreate,
    PatientCreate,
    PatientUpdate,
    PatientVoid,
    PregnancyStatusCreate,
)
from mesoclinic.patients.tabs import tabs_for
from mesoclinic.schemas_common import Page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, PageOffset
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import PostedForm, form_values, local_to_utc, submit_form, validate
from mesoclinic.web.templating import PATIENT_NAME, PATIENT_RECORD, redirect, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
HISTORY_FORMS: dict[str, Any] = {
    "allergies": AllergyCreate,
    "medications": MedicationCreate,
    "conditions": ConditionCreate,
    "pregnancy-statuses": PregnancyStatusCreate,
}


def patient_page(
    request: Request,
    actor: Actor,
    patient: Patient,
    tab: str,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render one tab of the patient page (used by every area's patient tabs)."""
    ctx = {"patient": patient, "tabs": tabs_for(actor.role), "active_tab": tab}
    ctx.update(context or {})
    return render(request, template, ctx, status_code=status_code)


@router.get("/patients", response_class=HTMLResponse)
def patient_list(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_READ)],
    q: str | None = None,
    birth_date: str | None = None,
    include_voided: bool = False,
    offset: PageOffset = 0,
) -> Response:
    errors: dict[str, str] = {}
    dob: date | None = None
    if birth_date:
        try:
            dob = date.fromisoformat(birth_date)
        except ValueError:
            errors["birth_date"] = "Use a date like 1985-04-12"
    found = service.find(
        session,
        actor,
        service.PatientQuery(q or None, dob, include_voided),
        limit=PAGE_SIZE,
        offset=offset,
    )
    query = {
        k: v
        for k, v in {
            "q": q,
            "birth_date": birth_date,
            "include_voided": include_voided or None,
        }.items()
        if v
    }
    return render(
        request,
        "patients/list.html",
        {
            "page": Page(
                items=list(found.rows),
                total=found.total,
                total_capped=found.capped,
                limit=PAGE_SIZE,
                offset=offset,
            ),
            "values": {"q": q, "birth_date": birth_date, "include_voided": include_voided},
            "errors": errors,
            "query_base": "/patients?" + urlencode(query),
        },
    )


@router.get("/patients/new", response_class=HTMLResponse)
def new_patient_form(
    request: Request, actor: Annotated[Actor, Allowed(Permission.PATIENT_WRITE)]
) -> Response:
    return render(request, "patients/form.html", {"values": {}, "errors": {}, "patient": None})


@router.post("/patients/new", response_class=HTMLResponse)
def create_patient(
    request: Request,
    form: PostedForm,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_WRITE)],
) -> Response:
    values = form_values(form)
    values["email_opt_out"] = values.get("email_opt_out") == "on"
    data, errors = validate(PatientCreate, values)

    def save(data: PatientCreate) -> Response:
        patient = service.create(session, actor, data)
        return redirect(
            f"/patients/{patient.id}",
            f"Registered {PATIENT_NAME} as {PATIENT_RECORD}.",
        )

    def show_form(errors: dict[str, str]) -> Response:
        return render(
            request,
            "patients/form.html",
            {"values": values, "errors": errors, "patient": None},
            status_code=422,
        )

    return submit_form(session, data, errors, save, show_form)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_detail(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_READ)],
) -> Response:
    patient = service.get(session, actor, patient_id)
    return patient_page(request, actor, patient, "overview", "patients/detail.html")


@router.get("/patients/{patient_id}/edit", response_class=HTMLResponse)
def edit_patient_form(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_WRITE)],
) -> Response:
    patient = service.get(session, actor, patient_id)
    values = {name: getattr(patient, name) for name in PatientUpdate.model_fields}
    return render(
        request, "patients/form.html", {"values": values, "errors": {}, "patient": patient}
    )


@router.post("/patients/{patient_id}/edit", response_class=HTMLResponse)
def update_patient(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_WRITE)],
) -> Response:
    patient = service.load(session, actor, patient_id, Permission.PATIENT_WRITE)
    values = form_values(form)
    values["email_opt_out"] = values.get("email_opt_out") == "on"
    # A blank optional field in the form means "clear it".
    for name in ("phone", "email", "address_line", "city", "postal_code", "country", "notes"):
        values.setdefault(name, None)
    data, errors = validate(PatientUpdate, values)

    def save(data: PatientUpdate) -> Response:
        service.update(session, actor, patient_id, data)
        return redirect(f"/patients/{patient_id}", "Changes saved.")

    def show_form(errors: dict[str, str]) -> Response:
        return render(
            request,
            "patients/form.html",
            {"values": values, "errors": errors, "patient": patient},
            status_code=422,
        )

    return submit_form(session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/void", response_class=HTMLResponse)
def void_patient(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.PATIENT_VOID)],
) -> Response:
    values = form_values(form)
    data, errors = validate(PatientVoid, values)

    def save(data: PatientVoid) -> Response:
        service.void(session, actor, patient_id, data.reason)
        return redirect(f"/patients/{patient_id}", "Record marked as entered in error.")

    def show_form(errors: dict[str, str]) -> Response:
        patient = service.get(session, actor, patient_id)
        return patient_page(
            request,
            actor,
            patient,
            "overview",
            "patients/detail.html",
            {"void_errors": errors, "values": values},
            status_code=422,
        )

    return submit_form(session, data, errors, save, show_form)


@router.get("/patients/{patient_id}/history", response_class=HTMLResponse)
def history_page(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_READ)],
) -> Response:
    patient = history_service.read(session, actor, patient_id)
    return patient_page(
        request,
        actor,
        patient,
        "history",
        "patients/history.html",
        {"errors": {}, "values": {}, "form_kind": None},
    )


@router.post("/patients/{patient_id}/history/{kind}", response_class=HTMLResponse)
def add_history(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    kind: history_service.HistoryKind,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(HISTORY_FORMS[kind], values)

    def save(data: Any) -> Response:
        history_service.add(session, actor, patient_id, kind, data)
        return redirect(f"/patients/{patient_id}/history", "Medical history updated.")

    def show_form(errors: dict[str, str]) -> Response:
        patient = history_service.read(session, actor, patient_id)
        return patient_page(
            request,
            actor,
            patient,
            "history",
            "patients/history.html",
            {"errors": errors, "values": values, "form_kind": kind},
            status_code=422,
        )

    return submit_form(session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/history/{kind}/{item_id}/void")
def void_history(
    patient_id: uuid.UUID,
    kind: history_service.HistoryKind,
    item_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.HISTORY_WRITE)],
) -> Response:
    history_service.void_item(session, actor, patient_id, kind, item_id)
    return redirect(f"/patients/{patient_id}/history", "Entry marked as entered in error.")


@router.get("/patients/{patient_id}/consents", response_class=HTMLResponse)
def consents_page(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CONSENT_READ)],
) -> Response:
    return _consents(request, session, actor, patient_id, {}, {})


def _consents(
    request: Request,
    session: DbSession,
    actor: Actor,
    patient_id: uuid.UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    consents = consent_service.list_for(session, actor, patient_id)
    patient = service.load(session, actor, patient_id, Permission.CONSENT_READ)
    forms = consent_service.current_forms(session)
    newest = {f.procedure: f.version for f in forms}
    rows = [
        (c, consent_service.is_current(c, newest.get(c.form.procedure, 0)))
        for c in reversed(consents)
    ]
    return patient_page(
        request,
        actor,
        patient,
        "consents",
        "patients/consents.html",
        {"rows": rows, "forms": forms, "values": values, "errors": errors},
        status_code=status_code,
    )


@router.post("/patients/{patient_id}/consents", response_class=HTMLResponse)
def sign_consent(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CONSENT_WRITE)],
) -> Response:
    values = form_values(form)
    if "signed_at" not in values:
        values["signed_at"] = datetime.now(UTC).isoformat()
    elif len(values["signed_at"]) == 16:  # datetime-local input: clinic-local, no zone
        values["signed_at"] = local_to_utc(request, values["signed_at"])
    data, errors = validate(ConsentCreate, values)

    def save(data: ConsentCreate) -> Response:
        consent_service.sign(session, actor, patient_id, data)
        return redirect(f"/patients/{patient_id}/consents", "Consent recorded.")

    def show_form(errors: dict[str, str]) -> Response:
        return _consents(request, session, actor, patient_id, values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/consents/{consent_id}/withdraw", response_class=HTMLResponse)
def withdraw_consent(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    consent_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.CONSENT_WRITE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(ConsentWithdraw, values)

    def save(data: ConsentWithdraw) -> Response:
        consent_service.withdraw(session, actor, patient_id, consent_id, data.reason)
        return redirect(f"/patients/{patient_id}/consents", "Consent withdrawn.")

    def show_form(errors: dict[str, str]) -> Response:
        shown = {"withdraw_reason": errors.get("reason", next(iter(errors.values()), ""))}
        return _consents(request, session, actor, patient_id, values, shown, 422)

    return submit_form(session, data, errors, save, show_form)
