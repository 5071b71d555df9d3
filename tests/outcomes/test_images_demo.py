"""The demo's trichoscopy images: synthetic, stored through the real store, counts queued."""

from __future__ import annotations

import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from mesoclinic.db import unit_of_work
from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.imaging.analysis import analyze_image
from mesoclinic.imaging.loading import load_image
from mesoclinic.imaging.profiles import get_profile
from mesoclinic.imaging.results import TrichoscopyResult
from mesoclinic.outcomes.demo_images import STORIES, TONES, add_demo_images, render_scalp
from mesoclinic.outcomes.models import AnalysisJob, ClinicalImage, PhotoConsent
from mesoclinic.patients.models import Patient


def test_render_is_deterministic_and_small():
    first = render_scalp(seed=3, count=20, tone=(1.0, 0.9, 0.8))
    assert first == render_scalp(seed=3, count=20, tone=(1.0, 0.9, 0.8))
    assert first != render_scalp(seed=4, count=20, tone=(1.0, 0.9, 0.8))
    assert Image.open(io.BytesIO(first)).size == (640, 512) and len(first) < 200_000


def _count(data: bytes) -> TrichoscopyResult:
    profile = get_profile("fdu-70x")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.jpg"
        path.write_bytes(data)
        loaded = load_image(path, max_pixels=40_000_000)
    return analyze_image(
        loaded.pixels,
        profile.calibration_for(loaded.source_width),
        profile.roi_for(loaded.source_width, loaded.source_height),
        source_scale=loaded.source_scale,
    )


def test_demo_images_count_like_a_scalp_and_follow_the_story():
    """The counter reads the demo frames as real scalp: terminal shafts of 50-80 um, a density in
    the range of the demo's device readings, and a responder's count rising visit by visit."""
    counts = STORIES["early_aga"]
    results = [
        _count(render_scalp(seed=1001, count=count, tone=TONES[1], visit=visit))
        for visit, count in ((0, counts[0]), (3, counts[3]))
    ]
    for result in results:
        assert result.terminal_count and result.terminal_count >= result.hair_count * 0.6
        assert result.mean_diameter_um is not None and 45 <= result.mean_diameter_um <= 80
        density = result.hair_count / ((result.analysed_area_mm2 or 1) / 100)
        assert 70 <= density <= 200
    assert results[1].hair_count > results[0].hair_count


def test_demo_images_follow_each_story(world):
    settings = world.app.state.settings
    with unit_of_work(world.db.factory) as s:
        patients = [
            (s.get(Patient, world.patient_a.id), "early_aga"),
            (s.get(Patient, world.other_patient_a.id), "moderate_aga"),
        ]
        ctx = DemoContext(
            clinics={MAIN_CLINIC: world.clinic_a},
            staff={"dr.moreau": world.users["clinician"]},
            patients=patients,
            now=datetime.now(UTC),
            settings=settings,
        )
        add_demo_images(s, ctx)
    with world.db.factory() as s:
        images = s.execute(select(ClinicalImage).order_by(ClinicalImage.taken_at)).scalars().all()
        assert len(images) == 8 and all(i.site and i.site.label == "Vertex" for i in images)
        assert (images[-1].taken_at - images[0].taken_at).days >= 180
        assert len(s.execute(select(AnalysisJob)).scalars().all()) == 8
        assert len(s.execute(select(PhotoConsent)).scalars().all()) == 2
