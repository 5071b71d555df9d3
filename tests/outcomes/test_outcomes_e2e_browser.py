"""Issue #11 end to end in Chromium: a clinician uploads a real FDU trichoscopy image through the
Images tab, a real `mesoclinic worker` process analyses it while the page follows the job, and
the clinician reviews the hairs (one detection removed, one added by clicking) and saves the
corrected count, which is stored beside the automatic one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.outcomes import jobs
from mesoclinic.outcomes.models import ImageAnalysis, ImageReview, Measurement
from outcomes.image_factory import make_site
from support import SHARED_DATA, browser_login, skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FDU_IMAGE = SHARED_DATA / "trichoscopy-fdu" / "images" / "220105_A095_1.jpg"
SRC = str(Path(__file__).resolve().parents[2] / "src")
SHOTS = os.environ.get("MESOCLINIC_SCREENSHOTS")


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    page.screenshot(path=str(folder / f"e2e-{name}.png"), full_page=True)


def _start_worker(live_server: Any, db: Any) -> subprocess.Popen[str]:
    """`mesoclinic worker` in its own process, on the live server's database and data folder."""
    settings = live_server.app.state.settings
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": SRC,
            "MESOCLINIC_DATABASE_URL": db.url,
            "MESOCLINIC_DATA_DIR": str(settings.data_dir),
            "MESOCLINIC_SECRET_KEY": settings.resolved_secret_key,
        }
    )
    env.pop("MESOCLINIC_ANALYSIS_DELAY_SECONDS", None)  # a leftover only slows the test down
    return subprocess.Popen(
        [sys.executable, "-c", "from mesoclinic.cli import main; main()", "worker"]
        + ["--poll-seconds", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(worker: subprocess.Popen[str]) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    return worker.stdout.read() if worker.stdout else ""


def test_clinician_uploads_waits_reviews_and_saves_the_corrected_count(
    world: Any, page: Any, live_server: Any, tmp_path: Path
) -> None:
    if not FDU_IMAGE.exists():
        skip_or_fail(f"shared FDU image not found at {FDU_IMAGE}")
    patient = world.patient_a
    site = make_site(world.db.factory, patient.id)
    worker = _start_worker(live_server, world.db)
    try:
        browser_login(page, world.users["clinician"].username)
        page.goto(f"/patients/{patient.id}")
        page.locator("nav.tabs").get_by_role("link", name="Images").click()
        page.wait_for_url(f"**/patients/{patient.id}/images")

        page.select_option("#f-kind", "trichoscopy")
        page.select_option("#f-site_id", str(site))
        page.set_input_files("#f-file", str(FDU_IMAGE))
        page.click("#upload-submit")
        page.locator("#upload-progress[data-done]").wait_for()
        link = page.locator("#upload-progress li a")
        assert link.inner_text() == FDU_IMAGE.name
        image_id = link.get_attribute("href").rsplit("/", 1)[1]
        # The worker process takes the job; the badge follows it without a reload.
        page.locator('#upload-progress [data-status="done"]').wait_for(timeout=90000)
        assert page.url.endswith(f"/patients/{patient.id}/images")
        assert "Analysed" in page.locator("#upload-progress li").inner_text()
        _shot(page, tmp_path, "uploaded")

        link.click()
        page.locator("#image-full").wait_for()
        page.click("#review-link")
        page.wait_for_url(f"**/images/{image_id}/review")
        automatic = int(page.locator("#automatic-count").inner_text())
        assert automatic > 5
        detected = page.locator("svg.review-layer g.hair.detected")
        assert detected.count() == automatic  # every counted hair is drawn on the overlay
        page.wait_for_function(
            "() => { const i = document.getElementById('review-image');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        _shot(page, tmp_path, "review")

        detected.first.locator("circle").click(force=True)
        assert page.locator("svg.review-layer g.hair.removed").count() == 1
        status = world.client("clinician").get(f"/api/v1/images/{image_id}/analysis").json()
        result = status["analysis"]["result"]
        marks = [p for h in result["hairs"] for p in (h["exit"], h["shaft"])]
        # Add a hair at the spot of the upper half farthest from every marked point.
        spot = max(
            ((x, y) for x in range(40, result["image_width"], 40) for y in range(60, 500, 40)),
            key=lambda c: min((c[0] - m[0]) ** 2 + (c[1] - m[1]) ** 2 for m in marks),
        )
        page.locator("#review-image").scroll_into_view_if_needed()
        box = page.locator("#review-image").bounding_box()
        page.mouse.click(
            box["x"] + spot[0] * box["width"] / result["image_width"],
            box["y"] + spot[1] * box["height"] / result["image_height"],
        )
        assert page.locator("svg.review-layer g.hair.added").count() == 1
        page.click("#save-correction")
        page.get_by_text("Correction saved").wait_for()
        assert page.locator("#corrected-count").inner_text() == str(automatic)
        assert "corrected by clinician.user" in page.locator("dl.counts").inner_text()
        _shot(page, tmp_path, "saved")
    finally:
        log = _stop(worker)
    assert "analysed 1" in log, log

    with world.db.factory() as s:
        review = s.execute(select(ImageReview)).scalar_one()
        reviewed = s.get(ImageAnalysis, review.analysis_id)
        counts = (
            s.execute(
                select(Measurement)
                .where(Measurement.patient_id == patient.id, Measurement.kind == "hair_count")
                .order_by(Measurement.created_at)
            )
            .scalars()
            .all()
        )
    assert reviewed is not None and str(reviewed.image_id) == image_id
    assert (len(review.removed), len(review.added)) == (1, 1)
    assert (review.automatic_count, review.corrected_count) == (automatic, automatic)
    assert review.reviewed_by == "clinician.user"
    assert [(m.source.value, int(m.value), m.site_id) for m in counts] == [
        ("image-analysis", automatic, site),
        ("image-analysis", automatic, site),
    ]
    automatic_row, corrected_row = counts
    assert automatic_row.recorded_by == jobs.WORKER
    assert corrected_row.recorded_by == "clinician.user"
    assert corrected_row.note == "corrected by clinician.user"
    assert review.measurement_id == corrected_row.id
    assert automatic_row.analysis_id == corrected_row.analysis_id == review.analysis_id
