"""The patient's Images tab (gallery, upload, photo consent) and the page of one image.

Everything works as plain forms; with JavaScript (static/outcomes-images.js) a batch upload sends
one request per file with its own progress bar and then follows each analysis without a reload.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from mesoclinic.config import Settings
from mesoclinic.imaging.profiles import bundled_profiles
from mesoclinic.outcomes import flows, images, pairs, photo_consent
from mesoclinic.outcomes.images_api import image_create, read_upload
from mesoclinic.outcomes.images_schemas import (
    ImageVoid,
    PhotoConsentCreate,
    PhotoConsentWithdraw,
)
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ClinicalImage,
    ImageKind,
    PhotoView,
)
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.pages import patient_page
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.security.permissions import Permission
from mesoclinic.visits import service as visit_service
from mesoclinic.web.forms import (
    PostedForm,
    clinic_zone,
    form_values,
    local_to_utc,
    submit_form,
    validate,
)
from mesoclinic.web.templating import redirect

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]
VIEW_LABELS = {v.value: v.value.replace("-", " ").capitalize() for v in PhotoView}
JOB_LABELS = {
    "queued": ("Analysis queued", "warn"),
    "running": ("Analysing…", "warn"),
    "done": ("Analysed", "ok"),
    "failed": ("Analysis failed", "bad"),
}


def _group_title(image: ClinicalImage) -> str:
    if image.kind is ImageKind.PHOTO:
        return f"Photos · {VIEW_LABELS[image.view.value] if image.view else 'no view'}"
    return f"Trichoscopy · {image.site.label if image.site else 'no site named'}"


def gallery(
    request: Request, rows: list[ClinicalImage]
) -> list[tuple[str, list[tuple[str, list[ClinicalImage]]]]]:
    """Images grouped by site or view, then by the clinic-local day they were taken."""
    groups: dict[str, dict[str, list[ClinicalImage]]] = defaultdict(lambda: defaultdict(list))
    zone = clinic_zone(request)
    for image in rows:
        taken = image.taken_at.astimezone(zone)
        groups[_group_title(image)][f"{taken:%d %b %Y}"].append(image)
    return [(title, list(days.items())) for title, days in sorted(groups.items())]


def _tab(
    request: Request,
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    rows = list(images.list_for(session, actor, patient.id))
    ctx: dict[str, Any] = {
        "groups": gallery(request, rows),
        "jobs": {
            i: (j[0] if j else None)
            for i, j in images.jobs_for(session, [r.id for r in rows]).items()
        },
        "job_labels": JOB_LABELS,
        "consents": photo_consent.list_for(session, actor, patient.id),
        "consent": photo_consent.current(session, patient.id),
        "values": values or {"kind": "trichoscopy", "device_profile": images.DEFAULT_PROFILE},
        "errors": errors or {},
        "can_write": actor.can(Permission.OUTCOME_WRITE) and patient.status == "active",
        "views": VIEW_LABELS,
        "profiles": sorted(bundled_profiles()),
        "sites": images.sites_of(session, patient.id),
        "visits": (
            visit_service.list_for_patient(session, actor, patient.id)
            if actor.can(Permission.VISIT_READ)
            else []
        ),
    }
    return patient_page(
        request, actor, patient, "images", "outcomes/images_tab.html", ctx, status_code=status_code
    )


@router.get("/patients/{patient_id}/images", response_class=HTMLResponse)
def images_tab(
    request: Request, patient_id: uuid.UUID, session: DbSession, actor: Reader
) -> Response:
    return _tab(request, session, actor, patient_id)


def _uploads(form: Any, settings: Settings) -> list[flows.UploadedFile]:
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    return [read_upload(f, settings.image_max_bytes) for f in files]


@router.post("/patients/{patient_id}/images", response_class=HTMLResponse)
def upload_images(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
    settings: SettingsDep,
) -> Response:
    """Store the chosen files; a refused file comes back as a form error and nothing is stored."""
    values = form_values(form)
    errors: dict[str, str] = {}
    uploads = _uploads(form, settings)
    if not uploads:
        errors["file"] = "Choose at least one image file"
    elif values.get("taken_at"):
        values["taken_at"] = local_to_utc(request, values["taken_at"])

    def save(fields: dict[str, Any]) -> Response:
        data = image_create({k: v for k, v in fields.items() if k != "file"})
        stored = flows.upload_images(session, actor, patient_id, data, uploads, settings)
        queued = sum(1 for s in stored if s.image.kind is ImageKind.TRICHOSCOPY)
        message = f"{len(stored)} image{'s' if len(stored) != 1 else ''} stored"
        message += f"; {queued} count analysis queued." if queued else "."
        return redirect(f"/patients/{patient_id}/images", message)

    def show_form(errors: dict[str, str]) -> Response:
        return _tab(request, session, actor, patient_id, values, errors, 422)

    return submit_form(session, None if errors else values, errors, save, show_form)


def pair_context(session: Session, image: ClinicalImage) -> dict[str, Any]:
    """The phototrichogram and follow-up panels of a trichoscopy image: results and choices."""
    if image.kind is not ImageKind.TRICHOSCOPY:
        return {"pairs_shown": False}
    growth = pairs.comparisons(session, image.id, AnalysisKind.GROWTH)
    follow_ups = pairs.comparisons(session, image.id, AnalysisKind.FOLLOW_UP)
    return {
        "pairs_shown": True,
        "growth": growth,
        "follow_ups": follow_ups,
        "pairs_pending": any(c.pending for c in growth + follow_ups),
        "growth_choices": pairs.growth_choices(session, image),
        "baseline_choices": pairs.baseline_choices(session, image),
    }


def render_image_page(
    request: Request,
    session: Session,
    actor: Actor,
    image_id: uuid.UUID,
    errors: dict[str, str],
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    """The image page; `errors` and `values` are those of a refused form on it."""
    image = images.get(session, actor, image_id)
    patient = patient_service.load(session, actor, image.patient_id, Permission.OUTCOME_READ)
    jobs: list[AnalysisJob] = images.jobs_for(session, [image.id])[image.id]
    ctx = {
        "image": image,
        "jobs": jobs,
        "job": jobs[0] if jobs else None,
        "job_labels": JOB_LABELS,
        "views": VIEW_LABELS,
        "errors": errors,
        "can_write": actor.can(Permission.OUTCOME_WRITE),
        "values": values or {},
        **pair_context(session, image),
    }
    return patient_page(
        request,
        actor,
        patient,
        "images",
        "outcomes/images_detail.html",
        ctx,
        status_code=status_code,
    )


@router.get("/images/{image_id}", response_class=HTMLResponse)
def image_page(
    request: Request, image_id: uuid.UUID, session: DbSession, actor: Reader
) -> Response:
    """The picture, its metadata, site, visit and the status of its analysis."""
    return render_image_page(request, session, actor, image_id, {})


@router.post("/images/{image_id}/void", response_class=HTMLResponse)
def void_image(
    request: Request, form: PostedForm, image_id: uuid.UUID, session: DbSession, actor: Writer
) -> Response:
    data, errors = validate(ImageVoid, form_values(form))

    def save(data: ImageVoid) -> Response:
        images.void(session, actor, image_id, data.reason)
        return redirect(f"/images/{image_id}", "Image marked as entered in error.")

    def show_form(errors: dict[str, str]) -> Response:
        return render_image_page(request, session, actor, image_id, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post("/patients/{patient_id}/photo-consents", response_class=HTMLResponse)
def record_photo_consent(
    request: Request, form: PostedForm, patient_id: uuid.UUID, session: DbSession, actor: Writer
) -> Response:
    values = form_values(form)
    body = {
        "signed_by": values.get("signed_by"),
        "signed_at": local_to_utc(request, values.get("signed_at", "")),
        **{s: values.get(s) == "on" for s in photo_consent.SCOPE_LABELS},
    }
    data, errors = validate(PhotoConsentCreate, body)

    def save(data: PhotoConsentCreate) -> Response:
        photo_consent.record(session, actor, patient_id, data)
        return redirect(f"/patients/{patient_id}/images", "Photo consent recorded.")

    def show_form(errors: dict[str, str]) -> Response:
        errors = {f"consent_{k}": v for k, v in errors.items()}
        return _tab(request, session, actor, patient_id, None, errors, 422)

    return submit_form(session, data, errors, save, show_form)


@router.post(
    "/patients/{patient_id}/photo-consents/{consent_id}/withdraw", response_class=HTMLResponse
)
def withdraw_photo_consent(
    request: Request,
    form: PostedForm,
    patient_id: uuid.UUID,
    consent_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
) -> Response:
    data, errors = validate(PhotoConsentWithdraw, form_values(form))

    def save(data: PhotoConsentWithdraw) -> Response:
        photo_consent.withdraw(session, actor, consent_id, data.reason)
        return redirect(f"/patients/{patient_id}/images", "Photo consent withdrawn.")

    def show_form(errors: dict[str, str]) -> Response:
        errors = {f"withdraw_{k}": v for k, v in errors.items()}
        return _tab(request, session, actor, patient_id, None, errors, 422)

    return submit_form(session, data, errors, save, show_form)
