"""The review page in Chromium: a real FDU image analysed by the job, one detection removed and
one hair added by clicking, the correction saved."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.db import unit_of_work
from mesoclinic.imaging.results import ALGORITHM_VERSION
from mesoclinic.outcomes import jobs, jobs_worker
from mesoclinic.outcomes.models import AnalysisKind, ImageReview
from outcomes.image_factory import make_site, store_image
from support import SHARED_DATA, browser_login, skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.committed]
FDU_IMAGE = SHARED_DATA / "trichoscopy-fdu" / "images" / "220105_A095_1.jpg"


def test_clinician_corrects_the_detection_by_clicking(
    world: Any, page: Any, live_server: Any, tmp_path: Any
) -> None:
    if not FDU_IMAGE.exists():
        skip_or_fail(f"shared FDU image not found at {FDU_IMAGE}")
    settings = live_server.app.state.settings
    site = make_site(world.db.factory, world.patient_a.id)
    image = store_image(
        world.db.factory,
        settings.images_dir,
        world.patient_a,
        FDU_IMAGE.read_bytes(),
        site_id=site,
        media_type="image/jpeg",
    )
    with unit_of_work(world.db.factory) as s:
        jobs.enqueue(
            s,
            kind=AnalysisKind.COUNT,
            image_id=image,
            algorithm_version=ALGORITHM_VERSION,
            requested_by="t",
        )
    browser_login(page, world.users["clinician"].username)
    page.goto(f"/images/{image}/review")
    page.get_by_text("The image is being analysed").wait_for()
    jobs_worker.run_pending(world.db.factory, settings)
    page.locator("#automatic-count").wait_for(timeout=20000)  # the page refreshed by itself
    automatic = int(page.locator("#automatic-count").inner_text())
    assert automatic > 5
    page.locator("svg.review-layer g.hair.detected").first.wait_for()
    page.wait_for_function(
        "() => { const i = document.getElementById('review-image');"
        " return i.complete && i.naturalWidth > 0 && i.src.includes('draw=false'); }"
    )
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    page.locator("svg.review-layer g.hair.detected circle").first.click(force=True)
    assert page.locator("svg.review-layer g.hair.removed").count() == 1
    status = world.client("clinician").get(f"/api/v1/images/{image}/analysis").json()
    result = status["analysis"]["result"]
    marks = [p for h in result["hairs"] for p in (h["exit"], h["shaft"])]
    # The spot of the upper half farthest from every marked exit and shaft point.
    spot = max(
        ((x, y) for x in range(40, 1280, 40) for y in range(60, 500, 40)),
        key=lambda c: min((c[0] - m[0]) ** 2 + (c[1] - m[1]) ** 2 for m in marks),
    )
    page.locator("#review-image").scroll_into_view_if_needed()
    box = page.locator("#review-image").bounding_box()
    page.mouse.click(
        box["x"] + spot[0] * box["width"] / result["image_width"],
        box["y"] + spot[1] * box["height"] / result["image_height"],
    )
    assert page.locator("svg.review-layer g.hair.added").count() == 1
    assert (
        f"Your correction: {automatic} hairs (1 removed, 1 added)"
        in page.locator("#pending-count").inner_text()
    )
    page.click("#save-correction")
    page.get_by_text("Correction saved").wait_for()
    assert page.locator("#corrected-count").inner_text() == str(automatic)
    assert "corrected by clinician.user" in page.locator("dl.counts").inner_text()
    page.screenshot(path=str(tmp_path / "saved.png"), full_page=True)
    with world.db.factory() as s:
        saved = s.execute(select(ImageReview)).scalar_one()
    assert (
        len(saved.removed) == 1 and len(saved.added) == 1 and saved.reviewed_by == "clinician.user"
    )
