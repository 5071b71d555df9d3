"""The Images tab and image page without JavaScript: upload several files, refusals shown,
photo consent form, who may see the pages."""

from __future__ import annotations

from image_support import files_on_disk, image_bytes, jpeg_with_gps, row_counts, upload
from support import csrf_from


def _post_files(web, url: str, files: list[tuple[str, bytes]], **fields: str):
    token = csrf_from(web.get(url).text)
    return web.post(
        url,
        data={"csrf_token": token, **fields},
        files=[("file", (name, data, "application/octet-stream")) for name, data in files],
    )


def test_upload_several_files_without_javascript(world):
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/images"
    page = web.get(url)
    assert page.status_code == 200 and 'id="upload-form"' in page.text
    assert 'enctype="multipart/form-data"' in page.text and "multiple" in page.text
    r = _post_files(
        web,
        url,
        [
            ("a.jpg", image_bytes()),
            ("b.png", image_bytes("PNG")),
            ("c.jpg", jpeg_with_gps(size=(80, 60))),
        ],
        kind="trichoscopy",
        taken_at="2026-01-10T09:30",
    )
    assert r.status_code == 303, r.text
    assert row_counts(world.db) == (3, 3)
    gallery = web.get(url).text
    assert gallery.count('src="/api/v1/images/') == 3
    assert "Trichoscopy · no site named" in gallery and "10 Jan 2026" in gallery
    assert gallery.count("Analysis queued") == 3


def test_refused_file_is_shown_on_the_form_and_nothing_stored(world):
    web = world.web("nurse")
    url = f"/patients/{world.patient_a.id}/images"
    images_dir = world.app.state.settings.images_dir
    before = files_on_disk(images_dir)
    r = _post_files(
        web, url, [("ok.jpg", image_bytes()), ("notes.jpg", b"hello")], kind="trichoscopy"
    )
    assert r.status_code == 422
    assert 'id="upload-error"' in r.text and "notes.jpg" in r.text
    assert row_counts(world.db) == (0, 0) and files_on_disk(images_dir) == before


def test_photo_needs_consent_and_the_consent_form_records_it(world):
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/images"
    r = _post_files(web, url, [("v.jpg", image_bytes())], kind="photo", view="vertex")
    assert r.status_code == 422 and "photo consent does not cover the clinical record" in r.text
    token = csrf_from(web.get(url).text)
    r = web.post(
        f"/patients/{world.patient_a.id}/photo-consents",
        data={
            "csrf_token": token,
            "clinical_record": "on",
            "teaching": "on",
            "signed_by": "Ana Silva",
            "signed_at": "2026-01-02T10:00",
        },
    )
    assert r.status_code == 303, r.text
    page = web.get(url).text
    assert "teaching: yes" in page and "marketing: no" in page
    r = _post_files(web, url, [("v.jpg", image_bytes())], kind="photo", view="vertex")
    assert r.status_code == 303
    assert "Photos · Vertex" in web.get(url).text


def test_image_page_shows_the_picture_metadata_and_review_link(world):
    image = upload(world.client("clinician"), world.patient_a.id, image_bytes()).json()[0]
    web = world.web("clinician")
    page = web.get(f"/images/{image['id']}")
    assert page.status_code == 200
    assert f'src="/api/v1/images/{image["id"]}/file"' in page.text
    assert f'href="/images/{image["id"]}/review"' in page.text
    assert "fdu-70x" in page.text and "Analysis queued" in page.text
    token = csrf_from(page.text)
    r = web.post(f"/images/{image['id']}/void", data={"csrf_token": token, "reason": "blurred"})
    assert r.status_code == 303
    assert "entered in error" in web.get(f"/images/{image['id']}").text


def test_reception_other_clinic_and_other_patient_cannot_open_the_pages(world):
    image = upload(world.client("clinician"), world.other_patient_a.id, image_bytes()).json()[0]
    assert (
        world.web("reception").get(f"/patients/{world.other_patient_a.id}/images").status_code
        == 403
    )
    assert world.web("reception").get(f"/images/{image['id']}").status_code == 403
    assert world.web("clinician_b").get(f"/images/{image['id']}").status_code == 404
    assert world.web("patient").get(f"/images/{image['id']}").status_code == 404
    tabs = world.web("reception").get(f"/patients/{world.other_patient_a.id}").text
    assert f"/patients/{world.other_patient_a.id}/images" not in tabs
