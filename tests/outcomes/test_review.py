"""Review and correction: validation, the corrected count beside the automatic one, access to
the overlay and review routes, auditing, and the training-data export."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.db import unit_of_work
from mesoclinic.outcomes import corrections, jobs, jobs_worker
from mesoclinic.outcomes.models import AnalysisKind, ImageReview, Measurement
from mesoclinic.security.actor import cli_actor
from outcomes.image_factory import MLP, add_consent, make_site, synthetic_image
from support import audit_entries


@pytest.fixture
def analysed(world: Any) -> uuid.UUID:
    """A six-hair synthetic image of patient A's vertex, analysed."""
    site = make_site(world.db.factory, world.patient_a.id)
    image = synthetic_image(
        world.db.factory, world.app.state.settings.images_dir, world.patient_a, site_id=site
    )
    with unit_of_work(world.db.factory) as s:
        jobs.enqueue(
            s, kind=AnalysisKind.COUNT, image_id=image, algorithm_version=MLP, requested_by="t"
        )
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)
    return image


def test_review_stores_corrected_count_beside_automatic(world: Any, analysed: uuid.UUID) -> None:
    client = world.client("clinician")
    r = client.post(
        f"/api/v1/images/{analysed}/review",
        json={"removed": [0, 2], "added": [[100, 100, 120, 60]]},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["automatic_count"] == 6 and body["corrected_count"] == 5
    assert body["reviewed_by"] == "clinician.user"
    with world.db.factory() as s:
        counts = list(
            s.execute(
                select(Measurement)
                .where(Measurement.kind == "hair_count")
                .order_by(Measurement.created_at)
            ).scalars()
        )
    assert [(m.value, m.recorded_by) for m in counts] == [(6, "worker"), (5, "clinician.user")]
    assert counts[1].note == "corrected by clinician.user"
    assert counts[1].source == counts[0].source and counts[1].algorithm_version == MLP
    status = client.get(f"/api/v1/images/{analysed}/analysis").json()
    assert status["status"] == "done" and status["analysis"]["review"]["corrected_count"] == 5
    # A second review corrects the first correction; every row stays.
    again = client.post(f"/api/v1/images/{analysed}/review", json={"removed": [1]})
    assert again.status_code == 201 and again.json()["corrected_count"] == 5
    with world.db.factory() as s:
        rows = list(
            s.execute(select(Measurement).where(Measurement.kind == "hair_count")).scalars()
        )
        assert len(rows) == 3 and sum(1 for m in rows if m.superseded_at is not None) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"removed": [6]}, "removed"),
        ({"removed": [-1]}, "removed"),
        ({"removed": [1, 1]}, "removed"),
        ({"added": [[5000, 10, 5010, 0]]}, "added"),
        ({"added": [[10, 10, 20]]}, "added"),
        ({"added": [[10, 10, 20, 0], [10, 10, 30, 0]]}, "added"),
    ],
)
def test_review_validation_names_the_field_and_stores_nothing(
    world: Any, analysed: uuid.UUID, body: dict[str, Any], field: str
) -> None:
    r = world.client("clinician").post(f"/api/v1/images/{analysed}/review", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    with world.db.factory() as s:
        assert s.execute(select(ImageReview)).first() is None
        assert (
            len(list(s.execute(select(Measurement).where(Measurement.kind == "hair_count")))) == 1
        )


@pytest.mark.parametrize(
    ("persona", "statuses"),
    [("clinician_b", {404}), ("reception", {403}), ("patient", {200})],
)
def test_overlay_and_review_access(
    world: Any, analysed: uuid.UUID, persona: str, statuses: set[int]
) -> None:
    client = world.client(persona)
    assert client.get(f"/api/v1/images/{analysed}/overlay.png").status_code in statuses
    assert client.get(f"/api/v1/images/{analysed}/analysis").status_code in statuses
    review = client.post(f"/api/v1/images/{analysed}/review", json={"removed": [0]})
    assert review.status_code in ({403} if persona == "patient" else statuses)
    page = world.web(persona).get(f"/images/{analysed}/review")
    assert page.status_code in statuses


def test_another_patient_cannot_see_the_overlay(world: Any) -> None:
    site = make_site(world.db.factory, world.other_patient_a.id)
    other = synthetic_image(
        world.db.factory, world.app.state.settings.images_dir, world.other_patient_a, site_id=site
    )
    r = world.client("patient").get(f"/api/v1/images/{other}/overlay.png")
    assert r.status_code in (403, 404)


def test_overlay_view_is_audited(world: Any, analysed: uuid.UUID) -> None:
    r = world.client("clinician").get(f"/api/v1/images/{analysed}/overlay.png")
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    entries = audit_entries(world.db, action="view_overlay")
    assert len(entries) == 1 and entries[0].entity_id == str(analysed)
    assert entries[0].patient_id == world.patient_a.id


def test_review_page_form_without_javascript(world: Any, analysed: uuid.UUID) -> None:
    from support import csrf_from

    web = world.web("clinician")
    page = web.get(f"/images/{analysed}/review")
    assert page.status_code == 200 and 'id="automatic-count">6<' in page.text
    r = web.post(
        f"/images/{analysed}/review",
        data={"csrf_token": csrf_from(page.text), "removed": ["3"], "added": "40, 60, 50, 20"},
    )
    assert r.status_code == 303, r.text
    after = web.get(f"/images/{analysed}/review")
    assert 'id="corrected-count">6<' in after.text
    bad = web.post(
        f"/images/{analysed}/review",
        data={"csrf_token": csrf_from(page.text), "added": "40, sixty"},
    )
    assert bad.status_code == 422 and "line 1" in bad.text


def test_export_corrections_writes_voc_the_dataset_reader_reads(
    world: Any, analysed: uuid.UUID, tmp_path: Path
) -> None:
    add_consent(world.db.factory, world.patient_a.id, teaching=True)
    world.client("clinician").post(
        f"/api/v1/images/{analysed}/review", json={"removed": [0], "added": [[100, 100, 130, 60]]}
    )
    with unit_of_work(world.db.factory) as s:
        report = corrections.export(s, cli_actor(), world.app.state.settings.images_dir, tmp_path)
    assert report.written == 1 and report.hairs == 6
    xml_path = tmp_path / f"{analysed}.xml"
    assert (tmp_path / f"{analysed}.png").exists()
    # The parsing of bench/imaging_dataset.py's read_labels.
    hairs = []
    for obj in ET.parse(xml_path).getroot().iter("object"):
        box = obj.find("bndbox")
        assert box is not None
        values = [int(float(box.findtext(k, "0"))) for k in ("xmin", "ymin", "xmax", "ymax")]
        hairs.append((*values, obj.findtext("class", "")))
    assert len(hairs) == 6
    assert (100, 100, 130, 60, "single") in hairs
    assert {h[4] for h in hairs} <= {"single", "premium"}
    assert ET.parse(xml_path).getroot().findtext("size/width") == "1280"


def test_export_leaves_out_patients_without_teaching_consent(
    world: Any, analysed: uuid.UUID, tmp_path: Path
) -> None:
    add_consent(world.db.factory, world.patient_a.id, teaching=False)
    world.client("clinician").post(f"/api/v1/images/{analysed}/review", json={"removed": [0]})
    with unit_of_work(world.db.factory) as s:
        report = corrections.export(s, cli_actor(), world.app.state.settings.images_dir, tmp_path)
    assert report.written == 0 and report.without_consent == 1
    assert list(tmp_path.iterdir()) == []
