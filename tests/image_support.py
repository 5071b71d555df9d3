"""Helpers for the image tests: images made in memory, uploads, consents, what is on disk."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from mesoclinic.db import unit_of_work
from mesoclinic.outcomes.images_schemas import PhotoConsentCreate
from mesoclinic.outcomes.models import ClinicalImage, ImageBlob
from mesoclinic.outcomes.photo_consent import record
from mesoclinic.security.actor import cli_actor

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), colour: Any = (180, 120, 90), **save: Any
) -> bytes:
    """A small image; a left half darker than the right so orientation can be checked."""
    image = Image.new("RGB", size, colour)
    image.paste((20, 20, 20), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying EXIF: camera make, GPS position and an orientation tag."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    return image_bytes("JPEG", size, exif=exif.tobytes())


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size (a decompression bomb's signature)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def files_on_disk(images_dir: Path) -> set[Path]:
    return {p for p in images_dir.rglob("*") if p.is_file()} if images_dir.exists() else set()


def row_counts(db: Any) -> tuple[int, int]:
    with db.factory() as s:
        return (
            s.execute(select(func.count()).select_from(ClinicalImage)).scalar_one(),
            s.execute(select(func.count()).select_from(ImageBlob)).scalar_one(),
        )


def give_photo_consent(db: Any, patient_id: Any, **scopes: bool) -> Any:
    with unit_of_work(db.factory) as s:
        consent = record(
            s,
            cli_actor("test-setup"),
            patient_id,
            PhotoConsentCreate(
                signed_at=datetime.now(UTC) - timedelta(days=1), signed_by="The patient", **scopes
            ),
        )
        return consent.id


def upload(
    client: Any, patient_id: Any, data: bytes, name: str = "scalp.jpg", **fields: str
) -> Any:
    fields.setdefault("kind", "trichoscopy")
    return client.post(
        f"/api/v1/patients/{patient_id}/images",
        data=fields,
        files=[("file", (name, data, "application/octet-stream"))],
    )
