"""The Progress tab, the report (HTML and PDF), the CSV: whose data, which photos, who may see."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from image_support import give_photo_consent, image_bytes, upload
from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes.evidence import check_pair
from mesoclinic.outcomes.models import ClinicalImage, ImageKind, PhotoView
from outcomes.measure_data import density, make_site, when
from support import audit_entries


def _measure(world, patient, values: list[tuple[float, float]]) -> None:
    site = make_site(world, patient)
    for days_ago, value in values:
        body = density(site["id"], value, measured_at=when(days_ago))
        r = world.client("clinician").post(f"/api/v1/patients/{patient.id}/measurements", json=body)
        assert r.status_code == 201, r.text


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_holds_this_patients_measurements_and_no_other_patients(world):
    _measure(world, world.patient_a, [(200, 142.5), (100, 151.3), (10, 163.7)])
    _measure(world, world.other_patient_a, [(150, 777.7)])
    r = world.web("clinician").get(f"/patients/{world.patient_a.id}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _pdf_text(r.content)
    for value in ("142.5", "151.3", "163.7"):
        assert value in text
    assert world.patient_a.family_name in text
    assert "777.7" not in text and world.other_patient_a.family_name not in text
    assert audit_entries(world.db, action="export", entity_type="progress_report")


def test_the_progress_tab_shows_charts_beside_their_data(world):
    _measure(world, world.patient_a, [(200, 142.5), (10, 163.7)])
    page = world.web("clinician").get(f"/patients/{world.patient_a.id}/progress")
    assert page.status_code == 200
    assert '<svg role="img"' in page.text and "<desc id=" in page.text
    assert "Hair density, total at Vertex" in page.text
    assert "+14.9 %" in page.text  # 163.7 against the baseline 142.5
    assert "Download report (PDF)" in page.text
    assert "<script>" not in page.text.split("<main", 1)[-1]  # no inline script in the tab


def test_a_patient_sees_only_their_own_progress_and_report(world):
    _measure(world, world.patient_a, [(200, 142.5)])
    _measure(world, world.other_patient_a, [(150, 131.0)])
    web = world.web("patient")
    assert web.get(f"/patients/{world.patient_a.id}/progress").status_code == 200
    assert web.get(f"/patients/{world.patient_a.id}/report.pdf").status_code == 200
    for path in ("progress", "report.pdf", "report.html"):
        assert web.get(f"/patients/{world.other_patient_a.id}/{path}").status_code == 404
    api = world.client("patient")
    assert (
        api.get(f"/api/v1/patients/{world.other_patient_a.id}/measurements.csv").status_code == 404
    )
    # Another clinic's staff find no such patient.
    r = world.web("clinician_b").get(f"/patients/{world.patient_a.id}/report.pdf")
    assert r.status_code == 404


def test_the_csv_lists_current_values_only(world):
    _measure(world, world.patient_a, [(200, 142.5), (100, 151.3)])
    c = world.client("clinician")
    listed = c.get(f"/api/v1/patients/{world.patient_a.id}/measurements").json()
    wrong = next(m for m in listed if m["value"] == 151.3)
    r = c.post(f"/api/v1/measurements/{wrong['id']}/void", json={"reason": "wrong patient's sheet"})
    assert r.status_code == 200, r.text
    csv = c.get(f"/api/v1/patients/{world.patient_a.id}/measurements.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("measured_at,kind,site,value,unit")
    assert len(lines) == 2 and ",142.5," in lines[1]


def _photos(world) -> None:
    c = world.client("clinician")
    for n, days in enumerate((120, 5)):
        taken = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        data = image_bytes("JPEG", (96 + n, 64))
        r = upload(c, world.patient_a.id, data, kind="photo", view="vertex", taken_at=taken)
        assert r.status_code == 201, r.text


def test_photos_appear_only_while_the_consent_covers_them(world):
    consent = give_photo_consent(world.db, world.patient_a.id, clinical_record=True)
    _photos(world)
    web = world.web("clinician")
    shown = web.get(f"/patients/{world.patient_a.id}/report.html")
    assert shown.text.count("<img") == 2 and "Vertex photo" in shown.text
    r = world.client("clinician").post(
        f"/api/v1/photo-consents/{consent}/withdraw", json={"reason": "patient asked"}
    )
    assert r.status_code == 200, r.text
    hidden = web.get(f"/patients/{world.patient_a.id}/report.html")
    assert "<img" not in hidden.text and "Vertex photo" not in hidden.text
    pdf = web.get(f"/patients/{world.patient_a.id}/report.pdf")
    assert "Vertex photo" not in _pdf_text(pdf.content)


def test_different_views_are_never_paired() -> None:
    patient = uuid.uuid4()
    now = datetime.now(UTC)

    def photo(view: PhotoView) -> ClinicalImage:
        return ClinicalImage(patient_id=patient, kind=ImageKind.PHOTO, view=view, taken_at=now)

    check_pair(photo(PhotoView.VERTEX), photo(PhotoView.VERTEX))
    with pytest.raises(InvalidInput, match="different views"):
        check_pair(photo(PhotoView.VERTEX), photo(PhotoView.FRONTAL))
    tricho = ClinicalImage(patient_id=patient, kind=ImageKind.TRICHOSCOPY, taken_at=now)
    with pytest.raises(InvalidInput, match="photo cannot be compared"):
        check_pair(photo(PhotoView.VERTEX), tricho)
