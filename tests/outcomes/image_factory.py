"""Clinical images for the analysis tests, made directly (no upload path): the bytes written to
the content-addressed store and the ImageBlob + ClinicalImage rows inserted."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.db import unit_of_work
from mesoclinic.imaging.results import ALGORITHM_VERSIONS
from mesoclinic.imaging.synthetic import SyntheticHair, draw_trichoscopy
from mesoclinic.outcomes.imagestore import blob_path
from mesoclinic.outcomes.models import (
    ClinicalImage,
    ImageBlob,
    ImageKind,
    MeasurementSite,
    PhotoConsent,
    SiteLocation,
)

# Drawn hairs are off the distribution the CNN detector learnt; the MLP finds them all
# (tests/imaging/test_imaging_growth.py), so analyses of synthetic images use its version.
MLP = ALGORITHM_VERSIONS["mlp"]
BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPOTS = [(250, 250), (600, 230), (950, 280), (300, 650), (650, 620), (980, 700)]


def synthetic_hairs(spots: list[tuple[int, int]] | None = None, **kw: Any) -> list[SyntheticHair]:
    length = kw.get("length", 120.0)
    width = kw.get("width", 18.0)
    return [SyntheticHair(x, y, 320.0, length, width) for x, y in (spots or SPOTS)]


def png_bytes(pixels: NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def make_site(
    factory: sessionmaker[Session],
    patient_id: uuid.UUID,
    *,
    clipped: bool = False,
    label: str = "Vertex",
) -> uuid.UUID:
    with unit_of_work(factory) as s:
        site = MeasurementSite(
            patient_id=patient_id,
            location=SiteLocation.VERTEX,
            label=label,
            description="2 cm behind the crown, on the midline; tattoo dot",
            clipped=clipped,
        )
        s.add(site)
        s.flush()
        return site.id


def add_consent(factory: sessionmaker[Session], patient_id: uuid.UUID, *, teaching: bool) -> None:
    with unit_of_work(factory) as s:
        s.add(
            PhotoConsent(
                patient_id=patient_id,
                teaching=teaching,
                signed_at=BASE_TIME,
                signed_by="the patient",
            )
        )


def store_image(
    factory: sessionmaker[Session],
    images_dir: Path,
    patient: Any,
    data: bytes,
    *,
    site_id: uuid.UUID | None = None,
    taken_at: datetime = BASE_TIME,
    device_profile: str | None = "fdu-70x",
    media_type: str = "image/png",
) -> uuid.UUID:
    """One trichoscopy image of a patient, its bytes in the store."""
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(images_dir, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with Image.open(io.BytesIO(data)) as opened:
        width, height = opened.size
    with unit_of_work(factory) as s:
        if s.get(ImageBlob, sha) is None:
            s.add(
                ImageBlob(
                    sha256=sha,
                    upload_sha256=sha,
                    media_type=media_type,
                    byte_size=len(data),
                    width=width,
                    height=height,
                )
            )
            s.flush()
        image = ClinicalImage(
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            site_id=site_id,
            kind=ImageKind.TRICHOSCOPY,
            taken_at=taken_at,
            blob_sha256=sha,
            original_filename="test.png",
            device_profile=device_profile,
            created_by="test",
        )
        s.add(image)
        s.flush()
        return image.id


def synthetic_image(
    factory: sessionmaker[Session],
    images_dir: Path,
    patient: Any,
    *,
    hairs: list[SyntheticHair] | None = None,
    seed: int = 1,
    size: tuple[int, int] = (1280, 1024),
    days: float = 0.0,
    **kw: Any,
) -> uuid.UUID:
    pixels = draw_trichoscopy(
        hairs if hairs is not None else synthetic_hairs(), size=size, seed=seed
    )
    return store_image(
        factory,
        images_dir,
        patient,
        png_bytes(pixels),
        taken_at=BASE_TIME + timedelta(days=days),
        **kw,
    )
