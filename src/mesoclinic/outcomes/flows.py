"""What an upload does beyond storing the image: a trichoscopy image queues its count analysis
in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from mesoclinic.config import Settings
from mesoclinic.imaging.results import ALGORITHM_VERSION
from mesoclinic.outcomes import images, jobs
from mesoclinic.outcomes.images import StoredImage
from mesoclinic.outcomes.images_schemas import ImageCreate
from mesoclinic.outcomes.imagestore import PreparedImage
from mesoclinic.outcomes.models import AnalysisKind, ImageBlob, ImageKind
from mesoclinic.patients import service as patient_service
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes


def upload_images(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: ImageCreate,
    files: Sequence[UploadedFile],
    settings: Settings,
) -> list[StoredImage]:
    """Store each file (all are checked before any is stored) and queue trichoscopy counts."""
    # Scope first, so nobody can make the server decode files for a patient they may not see.
    patient_service.load(session, actor, patient_id, Permission.OUTCOME_WRITE)
    sources = [
        images.prepare_upload(
            session,
            f.data,
            f.filename,
            max_bytes=settings.image_max_bytes,
            max_pixels=settings.image_max_pixels,
        )
        for f in files
    ]
    return [
        upload_one(session, actor, patient_id, data, f.filename, source, settings.images_dir)
        for f, source in zip(files, sources, strict=True)
    ]


def upload_one(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: ImageCreate,
    filename: str,
    source: ImageBlob | PreparedImage,
    images_dir: Path,
) -> StoredImage:
    """Store one checked file and, for trichoscopy, queue its count with today's algorithm."""
    stored = images.create(
        session, actor, patient_id, data, source, filename=filename, images_dir=images_dir
    )
    if stored.image.kind is ImageKind.TRICHOSCOPY:
        jobs.enqueue(
            session,
            kind=AnalysisKind.COUNT,
            image_id=stored.image.id,
            algorithm_version=ALGORITHM_VERSION,
            requested_by=actor.username,
        )
    return stored
