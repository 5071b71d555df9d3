"""Where image bytes live: content-addressed files under the images folder."""

from __future__ import annotations

from pathlib import Path


def blob_path(images_dir: Path, sha256: str) -> Path:
    """The file of a stored blob: images/ab/cd/abcd...(64 hex digits)."""
    return images_dir / sha256[:2] / sha256[2:4] / sha256
