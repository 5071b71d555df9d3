"""Safe decoding: every bad input gives an ImageLoadError with a clear message."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mesoclinic.imaging.loading import ImageLoadError, load_image


def _jpeg_bytes(width: int = 1280, height: int = 1024) -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(1)
    pixels = rng.integers(100, 220, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def test_jpeg_is_decoded_at_half_size_with_its_source_scale(tmp_path: Path) -> None:
    path = tmp_path / "scalp.jpg"
    path.write_bytes(_jpeg_bytes())
    loaded = load_image(path)
    assert loaded.pixels.shape == (512, 640, 3)
    assert (loaded.source_width, loaded.source_height) == (1280, 1024)
    assert loaded.source_scale == 2.0


def test_greyscale_png_loads_as_rgb_at_full_size(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((100, 120), 128, dtype=np.uint8)).save(path)
    loaded = load_image(path)
    assert loaded.pixels.shape == (100, 120, 3) and loaded.source_scale == 1.0


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    path.write_bytes(_jpeg_bytes()[:5000])
    with pytest.raises(ImageLoadError, match="truncated or corrupt"):
        load_image(path)


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not an image at all")
    with pytest.raises(ImageLoadError, match="not a readable image"):
        load_image(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError):
        load_image(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="cannot read file"):
        load_image(tmp_path / "nowhere.jpg")


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    # 12000 x 12000 one-bit pixels compress to a few kB but would decode to 144 M pixels.
    Image.new("1", (12000, 12000)).save(path, optimize=True)
    assert path.stat().st_size < 100_000
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(path)


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.new("RGB", (200, 200)).save(path)
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(path, max_pixels=10_000)


def test_truncated_jpeg_is_refused_even_when_pillow_is_told_to_tolerate_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint does
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(_jpeg_bytes()[:5000])
    with pytest.raises(ImageLoadError, match="truncated"):
        load_image(cut)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
