"""A real Chromium uploads a batch: per-file progress, then the analysis status follows the job
without a reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import update

from image_support import image_bytes
from mesoclinic.outcomes.models import AnalysisJob, JobStatus
from support import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.committed]
SHOTS = os.environ.get("MESOCLINIC_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_batch_upload_shows_progress_then_analysis_status(world, page, tmp_path):
    files = []
    for n, fmt in enumerate(("JPEG", "PNG", "JPEG")):
        path = tmp_path / f"vertex-{n}.{fmt.lower()}"
        path.write_bytes(image_bytes(fmt, (320 + 10 * n, 256)))
        files.append(str(path))
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    browser_login(page, world.users["clinician"].username)
    page.goto(f"/patients/{world.patient_a.id}/images")
    page.set_input_files("#f-file", [*files, str(bad)])
    page.click("#upload-submit")
    page.locator("#upload-progress[data-done]").wait_for()
    rows = page.locator("#upload-progress li")
    assert rows.count() == 4
    assert page.locator("#upload-progress li a").count() == 3
    assert "not a JPEG, PNG or TIFF" in rows.nth(3).inner_text()
    assert page.locator('#upload-progress [data-status="queued"]').count() == 3
    with world.db.factory() as s, s.begin():
        s.execute(update(AnalysisJob).values(status=JobStatus.DONE))
    page.locator('#upload-progress [data-status="done"]').nth(2).wait_for()
    assert page.url.endswith(f"/patients/{world.patient_a.id}/images")
    _shot(page, "images-upload")
    page.reload()
    assert page.locator("#image-gallery img").count() == 3
    _shot(page, "images-tab")
    page.locator("#image-gallery a").first.click()
    page.locator("#image-full").wait_for()
    assert page.locator("#review-link").is_visible()
    _shot(page, "image-page")
