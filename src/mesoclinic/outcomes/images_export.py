"""Export of a patient's images for teaching or marketing, only within their photo consent.

The zip holds the stored (metadata-free) files under neutral names and a manifest without the
patient's name or record number: a teaching slide or an advert must not identify the patient by
its file names.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import NotFound
from mesoclinic.outcomes import imagestore, photo_consent
from mesoclinic.outcomes.images_schemas import ExportPurpose
from mesoclinic.outcomes.models import ClinicalImage
from mesoclinic.patients import service as patient_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class ImageExport:
    filename: str
    data: bytes
    count: int


def _entry_name(n: int, image: ClinicalImage) -> str:
    """A neutral file name: sequence, date, kind, view or site, e.g. 003_2026-01-05_photo_vertex."""
    where = image.view.value if image.view else image.site.label if image.site else "scalp"
    where = re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-") or "scalp"
    extension = EXTENSIONS.get(image.blob.media_type, ".bin")
    return f"{n:03d}_{image.taken_at:%Y-%m-%d}_{image.kind.value}_{where}{extension}"


def export_images(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    purpose: ExportPurpose,
    images_dir: Path,
) -> ImageExport:
    """A zip of the patient's active images; 409 unless the current consent covers the purpose."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_WRITE)
    photo_consent.require_scope(session, patient.id, purpose, f"No {purpose} export")
    rows = (
        session.execute(
            select(ClinicalImage)
            .where(
                ClinicalImage.patient_id == patient.id,
                ClinicalImage.status == RecordStatus.ACTIVE,
            )
            .order_by(ClinicalImage.taken_at)
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound("This patient has no images to export")
    buffer = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n, image in enumerate(rows, start=1):
            name = _entry_name(n, image)
            archive.write(imagestore.blob_path(images_dir, image.blob_sha256), name)
            manifest.append(
                {"file": name, "taken": f"{image.taken_at:%Y-%m-%d}", "kind": image.kind.value}
            )
        archive.writestr(
            "manifest.json", json.dumps({"purpose": purpose, "images": manifest}, indent=2)
        )
    audit.record(
        session,
        actor,
        "export",
        "clinical_image",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"purpose": purpose, "images": len(rows)},
    )
    return ImageExport(f"images-{purpose}-{uuid.uuid4().hex[:8]}.zip", buffer.getvalue(), len(rows))
