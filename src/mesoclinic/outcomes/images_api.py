"""JSON routes for clinical images: upload (multipart), list, read, the bytes, thumbnail, void,
and the consent-checked export for teaching or marketing."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile as StarletteUpload

from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes import flows, images, images_export
from mesoclinic.outcomes.images_schemas import (
    ExportPurpose,
    ImageCreate,
    ImageRead,
    ImageVoid,
    JobRead,
)
from mesoclinic.outcomes.models import AnalysisJob, ClinicalImage
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, Idempotency, SettingsDep, created_once
from mesoclinic.security.permissions import Permission
from mesoclinic.web.forms import validate

router = APIRouter(prefix="/api/v1", tags=["images"])

Writer = Annotated[Actor, Allowed(Permission.OUTCOME_WRITE)]
Reader = Annotated[Actor, Allowed(Permission.OUTCOME_READ)]
MAX_FILES = 24
# Image bytes are patient data: never cached by a browser or proxy, never sniffed as HTML.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def image_read(image: ClinicalImage, jobs: list[AnalysisJob], duplicate: bool = False) -> ImageRead:
    """The API shape of an image, with its analysis jobs (newest first)."""
    job_reads = [JobRead.model_validate(j) for j in jobs]
    return ImageRead(
        id=image.id,
        patient_id=image.patient_id,
        kind=image.kind,
        view=image.view,
        site_id=image.site_id,
        site_label=image.site.label if image.site else None,
        visit_id=image.visit_id,
        taken_at=image.taken_at,
        original_filename=image.original_filename,
        device_profile=image.device_profile,
        media_type=image.blob.media_type,
        width=image.blob.width,
        height=image.blob.height,
        byte_size=image.blob.byte_size,
        sha256=image.blob_sha256,
        status=image.status,
        void_reason=image.void_reason,
        note=image.note,
        created_at=image.created_at,
        created_by=image.created_by,
        duplicate=duplicate,
        file_url=f"/api/v1/images/{image.id}/file",
        thumbnail_url=f"/api/v1/images/{image.id}/thumbnail",
        analysis=job_reads[0] if job_reads else None,
        jobs=job_reads,
    )


def image_create(values: dict[str, Any]) -> ImageCreate:
    """The upload's form fields as an ImageCreate, or InvalidInput naming the first bad field."""
    data, errors = validate(ImageCreate, {k: v for k, v in values.items() if v not in (None, "")})
    if data is None:
        field, message = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {message}", field)
    return data


def read_upload(upload: StarletteUpload, max_bytes: int) -> flows.UploadedFile:
    """The file's bytes, reading at most one byte past the limit (the store refuses it)."""
    return flows.UploadedFile(upload.filename or "", upload.file.read(max_bytes + 1))


@router.post(
    "/patients/{patient_id}/images",
    response_model=list[ImageRead],
    status_code=201,
    responses={
        413: {"description": "file_too_large or image_too_large (too many pixels)"},
        409: {"description": "photo_consent_missing: a photo needs clinical-record consent"},
        422: {"description": "not_an_image, truncated_image or an invalid field"},
    },
)
def upload_images(
    patient_id: uuid.UUID,
    session: DbSession,
    actor: Writer,
    settings: SettingsDep,
    once: Idempotency,
    file: Annotated[list[UploadFile], File(description="one or more image files")],
    kind: Annotated[str, Form()],
    view: Annotated[str | None, Form()] = None,
    site_id: Annotated[str | None, Form()] = None,
    visit_id: Annotated[str | None, Form()] = None,
    taken_at: Annotated[str | None, Form()] = None,
    device_profile: Annotated[str | None, Form()] = None,
    note: Annotated[str | None, Form()] = None,
) -> Response:
    """Store images of a patient (JPEG, PNG or TIFF, checked by content; metadata stripped).

    All files share the description; one bad file refuses the whole request. A trichoscopy
    image queues its count analysis. The same file again gives the stored image back
    (`duplicate: true`).
    """
    if not file or len(file) > MAX_FILES:
        raise InvalidInput(f"Send between 1 and {MAX_FILES} files", "file")
    data = image_create(
        {
            "kind": kind,
            "view": view,
            "site_id": site_id,
            "visit_id": visit_id,
            "taken_at": taken_at,
            "device_profile": device_profile,
            "note": note,
        }
    )

    def make() -> tuple[list[ImageRead], str]:
        uploads = [read_upload(f, settings.image_max_bytes) for f in file]
        stored = flows.upload_images(session, actor, patient_id, data, uploads, settings)
        jobs = images.jobs_for(session, [s.image.id for s in stored])
        return [image_read(s.image, jobs[s.image.id], s.duplicate) for s in stored], ""

    return created_once(session, actor, once, make)


@router.get("/patients/{patient_id}/images", response_model=list[ImageRead])
def list_images(
    patient_id: uuid.UUID, session: DbSession, actor: Reader, include_voided: bool = True
) -> list[ImageRead]:
    """A patient's images, newest first, each with its analysis status."""
    rows = images.list_for(session, actor, patient_id, include_voided)
    jobs = images.jobs_for(session, [i.id for i in rows])
    return [image_read(i, jobs[i.id]) for i in rows]


@router.get(
    "/patients/{patient_id}/images/export",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}},
        409: {"description": "photo_consent_missing: the consent does not cover the purpose"},
    },
)
def export_images(
    patient_id: uuid.UUID,
    purpose: ExportPurpose,
    session: DbSession,
    actor: Writer,
    settings: SettingsDep,
) -> Response:
    """A zip of the patient's images for teaching or marketing, only within their consent."""
    export = images_export.export_images(session, actor, patient_id, purpose, settings.images_dir)
    return Response(
        export.data,
        media_type="application/zip",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'attachment; filename="{export.filename}"',
        },
    )


@router.get("/images/{image_id}", response_model=ImageRead)
def get_image(image_id: uuid.UUID, session: DbSession, actor: Reader) -> ImageRead:
    """One image's metadata and the status of its analysis (polled by the upload page)."""
    image = images.get(session, actor, image_id)
    return image_read(image, images.jobs_for(session, [image.id])[image.id])


@router.get("/images/{image_id}/file", response_class=FileResponse)
def image_file(
    image_id: uuid.UUID, session: DbSession, actor: Reader, settings: SettingsDep
) -> FileResponse:
    """The stored image (metadata stripped); every view is audited."""
    found = images.file_for_view(session, actor, image_id, settings.images_dir, thumbnail=False)
    return FileResponse(found.path, media_type=found.media_type, headers=PRIVATE_HEADERS)


@router.get("/images/{image_id}/thumbnail", response_class=FileResponse)
def image_thumbnail(
    image_id: uuid.UUID, session: DbSession, actor: Reader, settings: SettingsDep
) -> FileResponse:
    """A 320 px JPEG of the image, made once; every view is audited."""
    found = images.file_for_view(session, actor, image_id, settings.images_dir, thumbnail=True)
    return FileResponse(found.path, media_type=found.media_type, headers=PRIVATE_HEADERS)


@router.post("/images/{image_id}/void", response_model=ImageRead)
def void_image(
    image_id: uuid.UUID, body: ImageVoid, session: DbSession, actor: Writer
) -> ImageRead:
    """Mark an image entered-in-error (kept, never deleted)."""
    image = images.void(session, actor, image_id, body.reason)
    return image_read(image, images.jobs_for(session, [image.id])[image.id])
