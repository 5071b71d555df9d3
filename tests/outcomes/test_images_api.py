"""Image routes: bad uploads store nothing, metadata is stripped, one blob per file, access and
audit of every view, the count job queued with the upload."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from image_support import (
    files_on_disk,
    give_photo_consent,
    image_bytes,
    jpeg_with_gps,
    png_claiming,
    row_counts,
    upload,
)
from mesoclinic.imaging.results import ALGORITHM_VERSION
from mesoclinic.outcomes.models import AnalysisJob, AnalysisKind, MeasurementSite, SiteLocation
from support import audit_entries


@pytest.fixture
def images_dir(world):
    return world.app.state.settings.images_dir


def _truncated() -> bytes:
    whole = image_bytes("JPEG", (600, 400))
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("notes.txt", b"not an image at all\n" * 10, 422, "not_an_image"),
        ("scalp.jpg", _truncated(), 422, "truncated_image"),
        ("bomb.png", png_claiming(50_000, 50_000), 413, "image_too_large"),
        ("renamed.jpg", b"Patient: Ana Silva\nDOB 1985-04-12\n" * 40, 422, "not_an_image"),
    ],
)
def test_bad_upload_is_refused_and_stores_nothing(world, images_dir, name, data, status, code):
    before_files, before_rows = files_on_disk(images_dir), row_counts(world.db)
    r = upload(world.client("clinician"), world.patient_a.id, data, name)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["field"] == "file" and error["message"]
    assert row_counts(world.db) == before_rows
    assert files_on_disk(images_dir) == before_files
    with world.db.factory() as s:
        assert s.execute(select(AnalysisJob)).first() is None


def test_one_bad_file_in_a_batch_refuses_the_batch(world, images_dir):
    before_files, before_rows = files_on_disk(images_dir), row_counts(world.db)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/images",
        data={"kind": "trichoscopy"},
        files=[
            ("file", ("good.jpg", image_bytes(), "image/jpeg")),
            ("file", ("bad.jpg", b"plain text", "image/jpeg")),
        ],
    )
    assert r.status_code == 422 and "bad.jpg" in r.json()["error"]["message"]
    assert row_counts(world.db) == before_rows and files_on_disk(images_dir) == before_files


def test_gps_and_exif_are_gone_from_the_stored_file(world, images_dir):
    c = world.client("clinician")
    r = upload(c, world.patient_a.id, jpeg_with_gps(orientation=6))
    assert r.status_code == 201, r.text
    image = r.json()[0]
    assert (image["width"], image["height"]) == (48, 64)  # orientation applied
    served = c.get(image["file_url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"SpyCam" not in served.content and b"Exif" not in served.content
    assert not Image.open(io.BytesIO(served.content)).getexif()
    on_disk = images_dir / image["sha256"][:2] / image["sha256"][2:4] / image["sha256"]
    assert on_disk.read_bytes() == served.content


def test_same_file_twice_is_one_blob_and_one_image(world, images_dir):
    c = world.client("clinician")
    data = jpeg_with_gps()
    first = upload(c, world.patient_a.id, data).json()[0]
    files_after_first = files_on_disk(images_dir)
    again = upload(c, world.patient_a.id, data, "copy.jpg").json()[0]
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert row_counts(world.db) == (1, 1)
    assert files_on_disk(images_dir) == files_after_first
    other = upload(c, world.other_patient_a.id, data).json()[0]
    assert other["id"] != first["id"] and other["sha256"] == first["sha256"]
    assert row_counts(world.db) == (2, 1)


def test_trichoscopy_upload_queues_its_count_with_the_current_algorithm(world):
    r = upload(world.client("nurse"), world.patient_a.id, image_bytes())
    image = r.json()[0]
    assert image["device_profile"] == "fdu-70x"
    assert image["analysis"]["status"] == "queued"
    with world.db.factory() as s:
        job = s.execute(select(AnalysisJob)).scalar_one()
    assert job.kind is AnalysisKind.COUNT and job.algorithm_version == ALGORITHM_VERSION
    assert job.requested_by == "nurse.user" and str(job.image_id) == image["id"]
    got = world.client("clinician").get(f"/api/v1/images/{image['id']}").json()
    assert got["analysis"]["id"] == str(job.id)


def test_image_bytes_are_private_and_not_sniffed(world):
    c = world.client("clinician")
    image = upload(c, world.patient_a.id, image_bytes("PNG")).json()[0]
    for url, media in ((image["file_url"], "image/png"), (image["thumbnail_url"], "image/jpeg")):
        r = c.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == media
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"


def test_every_view_of_the_bytes_is_audited(world):
    c = world.client("clinician")
    image = upload(c, world.patient_a.id, image_bytes()).json()[0]
    for _ in range(2):
        c.get(image["file_url"])
        c.get(image["thumbnail_url"])
    views = audit_entries(world.db, action="view", entity_id=image["id"])
    assert len(views) == 4 and all(v.patient_id == world.patient_a.id for v in views)
    assert sorted(v.detail for v in views).count('{"variant": "thumbnail"}') == 2
    c.get(f"/api/v1/images/{image['id']}")
    assert audit_entries(world.db, action="read", entity_id=image["id"])


@pytest.mark.parametrize("persona", ["clinician_b", "reception"])
def test_other_clinic_and_reception_cannot_see_an_image(world, persona):
    image = upload(world.client("clinician"), world.patient_a.id, image_bytes()).json()[0]
    c = world.client(persona)
    expected = 404 if persona == "clinician_b" else 403
    for path in ("", "/file", "/thumbnail"):
        assert c.get(f"/api/v1/images/{image['id']}{path}").status_code == expected
    assert c.get(f"/api/v1/patients/{world.patient_a.id}/images").status_code == expected
    assert upload(c, world.patient_a.id, image_bytes("PNG")).status_code == expected
    assert not audit_entries(world.db, action="view", entity_id=image["id"])


def test_another_patient_cannot_see_an_image(world):
    image = upload(world.client("clinician"), world.other_patient_a.id, image_bytes()).json()[0]
    c = world.client("patient")
    for path in ("", "/file", "/thumbnail"):
        assert c.get(f"/api/v1/images/{image['id']}{path}").status_code == 404
    own = upload(world.client("clinician"), world.patient_a.id, image_bytes("PNG")).json()[0]
    assert c.get(own["file_url"]).status_code == 200
    assert upload(c, world.patient_a.id, image_bytes("TIFF")).status_code == 403


def test_unknown_image_is_404_and_anonymous_is_401(world, anon):
    c = world.client("clinician")
    assert c.get(f"/api/v1/images/{uuid.uuid4()}/file").status_code == 404
    assert anon.get(f"/api/v1/images/{uuid.uuid4()}/file").status_code == 401


def test_site_and_visit_must_be_the_patients(world):
    with world.db.factory() as s, s.begin():
        site = MeasurementSite(
            patient_id=world.other_patient_a.id, location=SiteLocation.VERTEX, label="Vertex"
        )
        s.add(site)
        s.flush()
        site_id = str(site.id)
    c = world.client("clinician")
    r = upload(c, world.patient_a.id, image_bytes(), site_id=site_id)
    assert r.status_code == 422 and r.json()["error"]["field"] == "site_id"
    r = upload(c, world.patient_a.id, image_bytes(), visit_id=str(uuid.uuid4()))
    assert r.status_code == 422 and r.json()["error"]["field"] == "visit_id"
    r = upload(c, world.other_patient_a.id, image_bytes(), site_id=site_id)
    assert r.status_code == 201 and r.json()[0]["site_label"] == "Vertex"


def test_taken_at_in_the_future_or_before_birth_is_refused(world):
    c = world.client("clinician")
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = upload(c, world.patient_a.id, image_bytes(), taken_at=future)
    assert r.status_code == 422 and r.json()["error"]["field"] == "taken_at"
    r = upload(c, world.patient_a.id, image_bytes(), taken_at="1970-01-01T10:00:00+00:00")
    assert r.status_code == 422 and r.json()["error"]["field"] == "taken_at"
    r = upload(c, world.patient_a.id, image_bytes(), taken_at="2024-01-01T10:00:00")
    assert r.status_code == 422 and r.json()["error"]["field"] == "taken_at"


def test_kind_view_and_profile_rules(world):
    c = world.client("clinician")
    give_photo_consent(world.db, world.patient_a.id, clinical_record=True)
    r = upload(c, world.patient_a.id, image_bytes(), kind="photo")
    assert r.status_code == 422 and r.json()["error"]["field"] == "view"
    r = upload(c, world.patient_a.id, image_bytes(), view="vertex")
    assert r.status_code == 422 and r.json()["error"]["field"] == "view"
    r = upload(c, world.patient_a.id, image_bytes(), device_profile="no-such-scope")
    assert r.status_code == 422 and r.json()["error"]["field"] == "device_profile"
    r = upload(c, world.patient_a.id, image_bytes(), kind="x-ray")
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"
    photo = upload(c, world.patient_a.id, image_bytes(), kind="photo", view="vertex").json()[0]
    assert photo["analysis"] is None and photo["device_profile"] is None


def test_void_keeps_the_image(world):
    c = world.client("clinician")
    image = upload(c, world.patient_a.id, image_bytes()).json()[0]
    url = f"/api/v1/images/{image['id']}/void"
    assert world.client("patient").post(url, json={"reason": "wrong one"}).status_code == 403
    r = c.post(url, json={"reason": "wrong patient"})
    assert r.status_code == 200 and r.json()["status"] == "entered-in-error"
    assert c.post(url, json={"reason": "again"}).status_code == 409
    listed = c.get(f"/api/v1/patients/{world.patient_a.id}/images").json()
    assert [i["status"] for i in listed] == ["entered-in-error"]
