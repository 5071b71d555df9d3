"""Clinical image use cases: store an upload for a patient, read, list, void, view the bytes.

Every read and every view of the bytes is audited. Files are written last, and only after the
rows that reference them are flushed, so a refused upload writes nothing to disk; a file left by
a transaction that failed at commit has no row and is removed by `mesoclinic images sweep`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from mesoclinic.imaging.profiles import bundled_profiles
from mesoclinic.outcomes import imagestore, photo_consent
from mesoclinic.outcomes.images_schemas import ImageCreate
from mesoclinic.outcomes.imagestore import PreparedImage
from mesoclinic.outcomes.models import (
    AnalysisJob,
    ClinicalImage,
    ImageBlob,
    ImageKind,
    MeasurementSite,
)
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission
from mesoclinic.visits.models import Visit

DEFAULT_PROFILE = "fdu-70x"
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class StoredImage:
    """The image row an upload produced; `duplicate` when the patient already had that file."""

    image: ClinicalImage
    duplicate: bool


@dataclass(frozen=True)
class ImageFile:
    """What a view of the bytes serves: a file on disk and its media type."""

    path: Path
    media_type: str


def prepare_upload(
    session: Session, data: bytes, filename: str, *, max_bytes: int, max_pixels: int
) -> ImageBlob | PreparedImage:
    """The stored blob of these exact bytes, or the upload checked and re-encoded (4xx if bad)."""
    if len(data) <= max_bytes:
        known = session.execute(
            select(ImageBlob).where(ImageBlob.upload_sha256 == imagestore.upload_digest(data))
        ).scalar_one_or_none()
        if known is not None:
            return known
    return imagestore.prepare(data, max_bytes=max_bytes, max_pixels=max_pixels, filename=filename)


def _site(session: Session, patient: Patient, site_id: uuid.UUID | None) -> None:
    if site_id is None:
        return
    site = session.get(MeasurementSite, site_id)
    if site is None or site.patient_id != patient.id:
        raise InvalidInput("No such scalp site for this patient", "site_id")
    if site.status != RecordStatus.ACTIVE:
        raise InvalidInput("That scalp site was recorded in error", "site_id")


def _visit(session: Session, patient: Patient, visit_id: uuid.UUID | None) -> None:
    if visit_id is None:
        return
    visit = session.get(Visit, visit_id)
    if visit is None or visit.patient_id != patient.id:
        raise InvalidInput("No such visit for this patient", "visit_id")


def _check(session: Session, patient: Patient, data: ImageCreate) -> ImageCreate:
    """The upload's description, refused field by field; fills the default profile and time."""
    taken_at = data.taken_at or utcnow()
    patient_service.check_clinical_date(
        patient, taken_at, "taken_at", "The time the image was taken"
    )
    profile = data.device_profile
    if data.kind is ImageKind.TRICHOSCOPY:
        if data.view is not None:
            raise InvalidInput(
                "A view is for clinical photos; a trichoscopy image names a site", "view"
            )
        profile = profile or DEFAULT_PROFILE
        if profile not in bundled_profiles():
            known = ", ".join(sorted(bundled_profiles()))
            raise InvalidInput(
                f"Unknown device profile {profile!r} (known: {known})", "device_profile"
            )
    else:
        if data.view is None:
            raise InvalidInput("Choose the view of the clinical photo", "view")
        if profile is not None:
            raise InvalidInput("A device profile is for trichoscopy images", "device_profile")
        photo_consent.require_scope(session, patient.id, "clinical_record", "Photo not stored")
    _site(session, patient, data.site_id)
    _visit(session, patient, data.visit_id)
    return data.model_copy(update={"taken_at": taken_at, "device_profile": profile})


def _blob(session: Session, source: ImageBlob | PreparedImage) -> ImageBlob:
    if isinstance(source, ImageBlob):
        return source
    blob = session.get(ImageBlob, source.sha256)
    if blob is None:
        blob = ImageBlob(
            sha256=source.sha256,
            upload_sha256=source.upload_sha256,
            media_type=source.media_type,
            byte_size=len(source.data),
            width=source.width,
            height=source.height,
        )
        session.add(blob)
        session.flush()
    return blob


def create(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: ImageCreate,
    source: ImageBlob | PreparedImage,
    *,
    filename: str,
    images_dir: Path,
) -> StoredImage:
    """Store one image for the patient (the same file twice for a patient gives the first back)."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_WRITE)
    if patient.status != "active":
        raise Conflict("This patient record was entered in error; it takes no new images")
    checked = _check(session, patient, data)
    blob = _blob(session, source)
    image = _existing(session, patient.id, blob.sha256)
    duplicate = image is not None
    if image is None:
        image = ClinicalImage(
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            blob_sha256=blob.sha256,
            original_filename=filename[:200],
            created_by=actor.username,
            updated_by=actor.username,
            **checked.model_dump(),
        )
        session.add(image)
        session.flush()
    audit.record(
        session,
        actor,
        "create",
        "clinical_image",
        image.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"kind": image.kind.value, "blob": blob.sha256, "duplicate": duplicate},
    )
    if isinstance(source, PreparedImage):
        imagestore.save(images_dir, source)  # last: nothing refused above reaches the disk
    return StoredImage(image, duplicate)


def _existing(session: Session, patient_id: uuid.UUID, sha256: str) -> ClinicalImage | None:
    return session.execute(
        select(ClinicalImage).where(
            ClinicalImage.patient_id == patient_id,
            ClinicalImage.blob_sha256 == sha256,
            ClinicalImage.status == RecordStatus.ACTIVE,
        )
    ).scalar_one_or_none()


def _load(
    session: Session, actor: Actor, image_id: uuid.UUID, permission: Permission
) -> ClinicalImage:
    return patient_service.load_owned(session, actor, ClinicalImage, image_id, permission, "Image")


def get(session: Session, actor: Actor, image_id: uuid.UUID) -> ClinicalImage:
    """One image's record (audited read)."""
    image = _load(session, actor, image_id, Permission.OUTCOME_READ)
    audit.record(
        session,
        actor,
        "read",
        "clinical_image",
        image.id,
        patient_id=image.patient_id,
        clinic_id=image.clinic_id,
    )
    return image


def list_for(
    session: Session, actor: Actor, patient_id: uuid.UUID, include_voided: bool = True
) -> Sequence[ClinicalImage]:
    """A patient's images, newest first (audited)."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    audit.record(
        session,
        actor,
        "list",
        "clinical_image",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
    )
    stmt = select(ClinicalImage).where(ClinicalImage.patient_id == patient.id)
    if not include_voided:
        stmt = stmt.where(ClinicalImage.status == RecordStatus.ACTIVE)
    return session.execute(stmt.order_by(ClinicalImage.taken_at.desc())).scalars().all()


def void(session: Session, actor: Actor, image_id: uuid.UUID, reason: str) -> ClinicalImage:
    """Mark an image entered-in-error (kept, never deleted)."""
    image = _load(session, actor, image_id, Permission.OUTCOME_WRITE)
    if image.status is RecordStatus.ENTERED_IN_ERROR:
        raise InvalidTransition("This image is already marked as entered in error")
    image.status = RecordStatus.ENTERED_IN_ERROR
    image.void_reason = reason
    image.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "void",
        "clinical_image",
        image.id,
        patient_id=image.patient_id,
        clinic_id=image.clinic_id,
        detail={"reason": reason},
    )
    return image


def file_for_view(
    session: Session, actor: Actor, image_id: uuid.UUID, images_dir: Path, *, thumbnail: bool
) -> ImageFile:
    """The stored bytes (or thumbnail) to serve; every view is audited."""
    image = _load(session, actor, image_id, Permission.OUTCOME_READ)
    path = imagestore.blob_path(images_dir, image.blob_sha256)
    if not path.exists():
        raise NotFound("The image file is missing from the store; restore it from a backup")
    audit.record(
        session,
        actor,
        "view",
        "clinical_image",
        image.id,
        patient_id=image.patient_id,
        clinic_id=image.clinic_id,
        detail={"variant": "thumbnail" if thumbnail else "file"},
    )
    if thumbnail:
        return ImageFile(imagestore.ensure_thumbnail(images_dir, image.blob_sha256), "image/jpeg")
    return ImageFile(path, image.blob.media_type)


def jobs_for(
    session: Session, image_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AnalysisJob]]:
    """The analysis jobs of each image, newest first (no audit: callers audited the image)."""
    found: dict[uuid.UUID, list[AnalysisJob]] = {i: [] for i in image_ids}
    if not image_ids:
        return found
    rows = session.execute(
        select(AnalysisJob)
        .where(AnalysisJob.image_id.in_(list(image_ids)))
        .order_by(AnalysisJob.created_at.desc())
    ).scalars()
    for job in rows:
        found[job.image_id].append(job)
    return found


def sites_of(session: Session, patient_id: uuid.UUID) -> Sequence[MeasurementSite]:
    """The patient's active scalp sites, for the upload form (the caller has scoped the patient)."""
    return (
        session.execute(
            select(MeasurementSite)
            .where(
                MeasurementSite.patient_id == patient_id,
                MeasurementSite.status == RecordStatus.ACTIVE,
            )
            .order_by(MeasurementSite.label)
        )
        .scalars()
        .all()
    )
