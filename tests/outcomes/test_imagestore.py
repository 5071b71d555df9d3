"""The image store without a database: checks by content, limits, stripping, content addressing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from image_support import GPS_IFD, image_bytes, jpeg_with_gps, png_claiming
from mesoclinic.outcomes import imagestore
from mesoclinic.outcomes.imagestore import ImageRejected

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 4_000_000}


def prepare(data: bytes) -> imagestore.PreparedImage:
    return imagestore.prepare(data, filename="x", **LIMITS)


def test_text_file_named_jpg_is_refused_as_not_an_image():
    with pytest.raises(ImageRejected) as err:
        prepare(b"name,phone\nAna,0123\n" * 20)
    assert err.value.code == "not_an_image" and err.value.status == 422
    assert err.value.field == "file"


def test_gif_is_not_accepted_even_though_pillow_reads_it():
    with pytest.raises(ImageRejected, match="not a JPEG, PNG or TIFF"):
        prepare(image_bytes("GIF"))


def test_truncated_jpeg_and_png_are_refused():
    for fmt in ("JPEG", "PNG"):
        whole = image_bytes(fmt, (400, 300), colour=(10, 200, 30))
        with pytest.raises(ImageRejected) as err:
            prepare(whole[: len(whole) // 2])
        assert err.value.code == "truncated_image", fmt


def test_header_claiming_fifty_thousand_squared_pixels_is_refused_before_decoding():
    with pytest.raises(ImageRejected) as err:
        prepare(png_claiming(50_000, 50_000))
    assert err.value.status == 413 and err.value.code == "image_too_large"
    assert "pixels" in err.value.message


def test_pixel_limit_is_the_settings_value_not_pillows_default():
    with pytest.raises(ImageRejected, match="pixels"):
        imagestore.prepare(image_bytes("PNG", (200, 200)), max_bytes=10**7, max_pixels=30_000)


def test_too_many_bytes_is_refused_with_413():
    with pytest.raises(ImageRejected) as err:
        imagestore.prepare(image_bytes(), max_bytes=100, max_pixels=10**6)
    assert err.value.status == 413 and err.value.code == "file_too_large"


def test_exif_and_gps_are_gone_from_the_stored_jpeg():
    upload = jpeg_with_gps()
    assert b"SpyCam" in upload and Image.open(io.BytesIO(upload)).getexif().get_ifd(GPS_IFD)
    stored = prepare(upload)
    assert stored.media_type == "image/jpeg"
    assert b"SpyCam" not in stored.data and b"Exif" not in stored.data
    reopened = Image.open(io.BytesIO(stored.data))
    assert not reopened.getexif() and "exif" not in reopened.info
    assert "icc_profile" not in reopened.info


def test_orientation_is_applied_before_the_tag_is_dropped():
    # Orientation 6: the camera was turned; the upright picture is 48 wide and 64 high.
    stored = prepare(jpeg_with_gps(orientation=6, size=(64, 48)))
    assert (stored.width, stored.height) == (48, 64)
    upright = Image.open(io.BytesIO(stored.data)).convert("L")
    top, bottom = upright.getpixel((24, 4)), upright.getpixel((24, 60))
    assert abs(int(top) - int(bottom)) > 60  # the dark half is now on top or bottom


def test_png_text_chunks_are_dropped_and_tiff_is_stored_as_png():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ana Silva, 12 Elm Road")
    stored = prepare(image_bytes("PNG", pnginfo=info))
    assert b"Ana Silva" not in stored.data and stored.media_type == "image/png"
    tiff = prepare(image_bytes("TIFF"))
    assert tiff.media_type == "image/png" and tiff.data.startswith(b"\x89PNG")


def test_same_upload_gives_the_same_stored_bytes_and_address():
    upload = jpeg_with_gps()
    assert prepare(upload).sha256 == prepare(upload).sha256


def test_save_writes_once_and_never_overwrites(tmp_path):
    stored = prepare(image_bytes())
    assert imagestore.save(tmp_path, stored) is True
    path = imagestore.blob_path(tmp_path, stored.sha256)
    assert path.read_bytes() == stored.data
    assert imagestore.thumb_path(tmp_path, stored.sha256).exists()
    assert imagestore.save(tmp_path, stored) is False
    assert sorted(p.name for p in path.parent.iterdir()) == [
        stored.sha256,
        stored.sha256 + ".thumb.jpg",
    ]


def test_thumbnail_is_a_small_jpeg():
    stored = prepare(image_bytes("PNG", (1280, 1024)))
    thumb = Image.open(io.BytesIO(stored.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == imagestore.THUMB_SIZE


def test_orphans_are_files_without_a_row_and_old_enough(tmp_path):
    kept, lost = prepare(image_bytes()), prepare(image_bytes("PNG"))
    imagestore.save(tmp_path, kept)
    imagestore.save(tmp_path, lost)
    assert imagestore.orphans(tmp_path, {kept.sha256}, older_than_s=3600) == []
    found = imagestore.orphans(tmp_path, {kept.sha256}, older_than_s=-1)
    assert {p.name[:64] for p in found} == {lost.sha256} and len(found) == 2


def test_truncated_file_is_refused_even_when_another_library_made_pillow_tolerant(monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # WeasyPrint does on import
    for fmt in ("JPEG", "PNG"):
        whole = image_bytes(fmt, (400, 300), colour=(10, 200, 30))
        with pytest.raises(ImageRejected) as err:
            prepare(whole[: len(whole) - 40])
        assert err.value.code == "truncated_image", fmt
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as the other library set it
    assert prepare(image_bytes("JPEG")).width == 64
