"""Where image bytes live: content-addressed files under the images folder.

Uploaded bytes are checked by content (never by name or declared type), decoded in full, turned
upright from their EXIF orientation and re-encoded from bare pixels, so no EXIF, GPS, XMP, ICC or
text chunk of the upload reaches the disk. The stored file is addressed by its own SHA-256;
files are written once, through a temporary file and an atomic link, and never overwritten.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mesoclinic.errors import DomainError

if TYPE_CHECKING:  # Pillow loads with the first image handled, not with the web app (issue 18)
    from PIL import Image

# Pillow formats we accept, and how each is stored (JPEG stays JPEG; lossless ones become PNG).
ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF")
STORED_AS = {
    "JPEG": ("JPEG", "image/jpeg"),
    "PNG": ("PNG", "image/png"),
    "TIFF": ("PNG", "image/png"),
}
JPEG_QUALITY = 95
THUMB_SIZE = 320
THUMB_SUFFIX = ".thumb.jpg"
TMP_PREFIX = ".incoming-"
PNG_END = b"IEND\xaeB`\x82"
# Decoding is strict only while the process-wide switch is off; one strict decode at a time.
_STRICT_DECODING = threading.Lock()


class ImageRejected(DomainError):
    """An upload that is not a storable image; names the `file` field, status 413 or 422."""

    def __init__(self, message: str, code: str, status: int = 422) -> None:
        super().__init__(message, "file", code, status)


@dataclass(frozen=True)
class PreparedImage:
    """A validated upload, re-encoded without metadata and ready to store."""

    upload_sha256: str
    sha256: str
    data: bytes
    media_type: str
    width: int
    height: int
    thumbnail: bytes


def upload_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_path(images_dir: Path, sha256: str) -> Path:
    """The file of a stored blob: images/ab/cd/abcd...(64 hex digits)."""
    return images_dir / sha256[:2] / sha256[2:4] / sha256


def thumb_path(images_dir: Path, sha256: str) -> Path:
    """The blob's thumbnail, made once beside it."""
    return blob_path(images_dir, sha256).with_suffix(THUMB_SUFFIX)


def _open(data: bytes, label: str, max_pixels: int) -> Image.Image:
    """Open by content and check the pixel count from the header, before any decoding."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(label, max_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(
            f"{label} is not a JPEG, PNG or TIFF image (checked by its content, not its name)",
            "not_an_image",
        ) from exc
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise _too_many_pixels(label, max_pixels, width, height)
    return image


def _too_many_pixels(label: str, max_pixels: int, width: int = 0, height: int = 0) -> ImageRejected:
    size = f" ({width} x {height})" if width else ""
    return ImageRejected(
        f"{label}{size} has more than the {max_pixels:,} pixels an image may have",
        "image_too_large",
        413,
    )


def _incomplete(label: str) -> ImageRejected:
    return ImageRejected(
        f"{label} is damaged or incomplete and could not be read in full", "truncated_image"
    )


def _has_end(data: bytes, fmt: str | None) -> bool:
    """The format's end marker is where it must be: after the last JPEG scan, or PNG's IEND.

    Checked on the bytes because Pillow's decoders pad a cut-off file silently whenever another
    library has set the process-wide LOAD_TRUNCATED_IMAGES (WeasyPrint does on import).
    """
    if fmt == "JPEG":
        return data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda")  # entropy data never holds FFD9
    if fmt == "PNG":
        return PNG_END in data
    return True


def _decode(image: Image.Image, data: bytes, label: str) -> Image.Image:
    """Decode every pixel (a truncated or corrupt file fails here) and stand it upright."""
    from PIL import ImageFile, ImageOps

    if not _has_end(data, image.format):
        raise _incomplete(label)
    with _STRICT_DECODING:
        tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            upright.load()
        except Exception as exc:  # noqa: BLE001 - Pillow's decoders raise many types
            raise _incomplete(label) from exc
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    return upright


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours from an embedded ICC profile, converted to sRGB so the profile can be dropped."""
    from PIL import ImageCms

    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted or image


def _bare(image: Image.Image, stored_format: str) -> Image.Image:
    """The pixels alone in a storable mode: a new image carries no info, EXIF or palette."""
    from PIL import Image

    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if stored_format == "JPEG":
        mode = "L" if image.mode in ("1", "L") else "RGB"
    elif image.mode in ("L", "RGB", "RGBA", "LA"):
        mode = image.mode
    else:
        mode = "RGBA" if has_alpha else "RGB"
    pixels = _to_srgb(image) if image.mode in ("RGB", "RGBA") else image
    pixels = pixels.convert(mode) if pixels.mode != mode else pixels
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


def _encode(image: Image.Image, stored_format: str) -> bytes:
    out = io.BytesIO()
    if stored_format == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=85)
    return out.getvalue()


def prepare(data: bytes, *, max_bytes: int, max_pixels: int, filename: str = "") -> PreparedImage:
    """Validate an upload by content and re-encode it without metadata; ImageRejected if not."""
    label = f"'{filename}'" if filename else "The file"
    if len(data) > max_bytes:
        raise ImageRejected(
            f"{label} is {len(data):,} bytes; the limit is {max_bytes:,}", "file_too_large", 413
        )
    if not data:
        raise ImageRejected(f"{label} is empty", "not_an_image")
    source = _open(data, label, max_pixels)
    stored_format, media_type = STORED_AS[source.format or "PNG"]
    bare = _bare(_decode(source, data, label), stored_format)
    stored = _encode(bare, stored_format)
    return PreparedImage(
        upload_sha256=upload_digest(data),
        sha256=hashlib.sha256(stored).hexdigest(),
        data=stored,
        media_type=media_type,
        width=bare.width,
        height=bare.height,
        thumbnail=_thumbnail(bare),
    )


def _write_once(path: Path, data: bytes) -> bool:
    """Write through a temporary file and a hard link; False when the file already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic, and refuses to replace an existing file
        except FileExistsError:
            os.utime(path)  # fresh again, so the orphan sweep leaves it to its new row
            return False
        return True
    finally:
        os.unlink(tmp)


def save(images_dir: Path, image: PreparedImage) -> bool:
    """Store the blob and its thumbnail unless they exist; True when the blob was new."""
    created = _write_once(blob_path(images_dir, image.sha256), image.data)
    _write_once(thumb_path(images_dir, image.sha256), image.thumbnail)
    return created


def ensure_thumbnail(images_dir: Path, sha256: str) -> Path:
    """The thumbnail's path, made from the blob the first time it is missing."""
    path = thumb_path(images_dir, sha256)
    if not path.exists():
        from PIL import Image

        with Image.open(blob_path(images_dir, sha256)) as image:
            _write_once(path, _thumbnail(image))
    return path


def stored_files(images_dir: Path) -> Iterator[tuple[str, Path]]:
    """(sha256, path) of every blob and thumbnail file under the images folder."""
    if not images_dir.exists():
        return
    for path in images_dir.glob("??/??/*"):
        if path.name.startswith(TMP_PREFIX) or not path.is_file():
            continue
        yield path.name[:64], path


def orphans(images_dir: Path, known: set[str], older_than_s: float) -> list[Path]:
    """Files whose blob has no row and that are older than the given age (safe to remove)."""
    cutoff = time.time() - older_than_s
    return [
        path
        for sha, path in stored_files(images_dir)
        if sha not in known and path.stat().st_mtime < cutoff
    ]
