"""HTML pages: the patient's Assessments tab, the assessment form with its live decision panel,
an assessment's detail with overrides, and the treatment gate."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mesoclinic.assessment import service
from mesoclinic.assessment.facts import STATED_FACTS
from mesoclinic.assessment.rules import override_reasons
from mesoclinic.assessment.schemas import AssessmentCreate, AssessmentVoid, OverrideCreate
from mesoclinic.assessment.staging import DIAGNOSIS_CODES, SALT_WEIGHTS, SCALE_GRADES, SCALE_LABELS
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.pages import patient_page
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession
from mesoclinic.security.permissions import Permission
from mesoclinic.web.dashboard import Panel
from mesoclinic.web.forms import PostedForm, form_values, local_to_utc, submit_form, validate
from mesoclinic.web.rulebooks import ScreeningRules
from mesoclinic.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
NUMBERS = ("complaint_duration_months", "pull_test_hairs", "wash_test_count", "comb_count")
TEXTS = ("complaint", "scalp_notes", "diagnosis")
CHECKBOXES = ("scalp_infection", "open_wound", "herpes_active", "scalp_inflammation")
# Service errors name API fields; the form's inputs are flat.
FORM_FIELD = {
    "staging": "staging_grade",
    "staging.grade": "staging_grade",
    "staging.scale": "staging_scale",
    **{f"staging.regions.{r}": f"salt_{r}" for r in SALT_WEIGHTS},
}


def awaiting_override_panel(session: Session, actor: Actor) -> Panel | None:
    """Dashboard: patients whose treatment waits for a clinician's override decision."""
    if not actor.can(Permission.DECISION_OVERRIDE):
        return None
    waiting = service.awaiting_override(session, actor)
    if not waiting:
        return Panel("Decisions awaiting you", [("No assessment waits for an override.", None)])
    return Panel(
        "Decisions awaiting you",
        [
            (
                f"{p.family_name}, {p.given_name} ({p.record_number}): "
                + "; ".join(override_reasons(a.decision, rules)),
                f"/patients/{p.id}/assessments/{a.id}",
            )
            for p, a, rules in waiting
        ],
        tone="warn",
    )


def payload_from_form(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    """The API body a posted assessment form stands for (blank facts = from history)."""
    body: dict[str, Any] = {k: values[k] for k in (*TEXTS, *NUMBERS) if k in values}
    body.update({k: values.get(k) == "on" for k in CHECKBOXES})
    for name in STATED_FACTS:
        answer = values.get(name)
        if answer is not None:
            body[name] = {"yes": True, "no": False}.get(answer, answer)
    if scale := values.get("staging_scale"):
        regions = {r: values[f"salt_{r}"] for r in SALT_WEIGHTS if f"salt_{r}" in values}
        if scale == "salt" and regions and "staging_grade" not in values:
            body["staging"] = {"scale": scale, "regions": regions}
        else:
            body["staging"] = {"scale": scale, "grade": values.get("staging_grade")}
    if at := values.get("assessed_at"):
        body["assessed_at"] = local_to_utc(request, at) if len(at) == 16 else at
    return body


def _validated(
    request: Request, values: dict[str, Any]
) -> tuple[AssessmentCreate | None, dict[str, str]]:
    data, errors = validate(AssessmentCreate, payload_from_form(request, values))
    return data, {FORM_FIELD.get(k, k): v for k, v in errors.items()}


def _form_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "diagnoses": DIAGNOSIS_CODES,
        "scales": SCALE_LABELS,
        "grades": SCALE_GRADES,
        "salt_regions": SALT_WEIGHTS,
        "stated_facts": STATED_FACTS,
    }


@router.get("/patients/{patient_id}/assessments", response_class=HTMLResponse)
def assessments_tab(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_READ)],
    rulebook: ScreeningRules,
) -> Response:
    """The patient's assessments, newest first, and whether treatment may be planned."""
    rows = service.list_for(session, actor, patient_id)
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_READ)
    gate = service.gate(session, actor, patient_id, rulebook)
    return patient_page(
        request, actor, patient, "assessments", "assessment/tab.html", {"rows": rows, "gate": gate}
    )


@router.get("/patients/{patient_id}/assessments/new", response_class=HTMLResponse)
def new_assessment_form(
    request: Request,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
) -> Response:
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_WRITE)
    # The form shows the patient's name and record: a read of that patient.
    audit.record_patient_reads(
        session, actor, [(patient.id, patient.clinic_id)], via="assessment-form"
    )
    return patient_page(
        request,
        actor,
        patient,
        "assessments",
        "assessment/form.html",
        {**_form_context({}, {}), "decision": None},
    )


@router.post("/patients/{patient_id}/assessments/new", response_class=HTMLResponse)
def create_assessment(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
    rulebook: ScreeningRules,
) -> Response:
    values = form_values(form)
    data, errors = _validated(request, values)

    def save(data: AssessmentCreate) -> Response:
        made = service.create(session, actor, patient_id, data, rulebook)
        return redirect(
            f"/patients/{patient_id}/assessments/{made.id}",
            f"Assessment saved: {made.candidacy.replace('_', ' ')}.",
        )

    def show_form(errors: dict[str, str]) -> Response:
        errors = {FORM_FIELD.get(k, k): v for k, v in errors.items()}
        patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_WRITE)
        return patient_page(
            request,
            actor,
            patient,
            "assessments",
            "assessment/form.html",
            {**_form_context(values, errors), "decision": None},
            status_code=422,
        )

    return submit_form(session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/assessments/preview", response_class=HTMLResponse)
def preview_fragment(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
    rulebook: ScreeningRules,
) -> Response:
    """The decision panel for the form as filled so far (fetched by the form's script)."""
    values = form_values(form)
    patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_WRITE)
    data, errors = _validated(request, values)

    def panel(decision: Any, errors: dict[str, str]) -> Response:
        context = {"decision": decision, "errors": errors, "preview": True}
        return render(request, "assessment/_decision.html", context)

    def show_decision(data: AssessmentCreate) -> Response:
        preview = service.preview(session, actor, patient_id, data, rulebook)
        return panel(service.preview_view(preview), {})

    def show_errors(errors: dict[str, str]) -> Response:
        return panel(None, {FORM_FIELD.get(k, k): v for k, v in errors.items()})

    return submit_form(session, data, errors, show_decision, show_errors, once=False)


def _detail(
    request: Request,
    session: DbSession,
    actor: Actor,
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    assessment = service.get(session, actor, patient_id, assessment_id)
    patient = patient_service.load(session, actor, patient_id, Permission.ASSESSMENT_READ)
    return patient_page(
        request,
        actor,
        patient,
        "assessments",
        "assessment/detail.html",
        {
            "a": assessment,
            "decision": service.decision_view(assessment),
            "code": DIAGNOSIS_CODES[assessment.diagnosis],
            "scales": SCALE_LABELS,
            "values": values,
            "errors": errors,
            "preview": False,
        },
        status_code=status_code,
    )


@router.get("/patients/{patient_id}/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_detail(
    request: Request,
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_READ)],
) -> Response:
    return _detail(request, session, actor, patient_id, assessment_id, {}, {})


@router.post(
    "/patients/{patient_id}/assessments/{assessment_id}/overrides", response_class=HTMLResponse
)
def override_decision(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.DECISION_OVERRIDE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(OverrideCreate, values)

    def save(data: OverrideCreate) -> Response:
        service.add_override(session, actor, patient_id, assessment_id, data)
        return redirect(
            f"/patients/{patient_id}/assessments/{assessment_id}",
            f"Override of {data.rule_id} recorded.",
        )

    def show_form(errors: dict[str, str]) -> Response:
        errors = {f"override_{k}": v for k, v in errors.items()}
        return _detail(request, session, actor, patient_id, assessment_id, values, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post(
    "/patients/{patient_id}/assessments/{assessment_id}/entered-in-error",
    response_class=HTMLResponse,
)
def void_assessment(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    assessment_id: uuid.UUID,
    session: DbSession,
    actor: Annotated[Actor, Allowed(Permission.ASSESSMENT_WRITE)],
) -> Response:
    values = form_values(form)
    data, errors = validate(AssessmentVoid, values)

    def save(data: AssessmentVoid) -> Response:
        service.void(session, actor, patient_id, assessment_id, data.reason)
        return redirect(
            f"/patients/{patient_id}/assessments/{assessment_id}",
            "Assessment marked as entered in error.",
        )

    def show_form(errors: dict[str, str]) -> Response:
        errors = {f"void_{k}": v for k, v in errors.items()}
        return _detail(request, session, actor, patient_id, assessment_id, values, errors, 422)

    return submit_form(session, data, errors, save, show_form)
