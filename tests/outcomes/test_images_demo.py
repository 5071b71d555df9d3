"""The demo's trichoscopy images: synthetic, stored through the real store, counts queued."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image
from sqlalchemy import select

from mesoclinic.db import unit_of_work
from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.outcomes.demo_images import add_demo_images, render_scalp
from mesoclinic.outcomes.models import AnalysisJob, ClinicalImage, PhotoConsent
from mesoclinic.patients.models import Patient


def test_render_is_deterministic_and_small():
    first = render_scalp(seed=3, count=20, tone=(1.0, 0.9, 0.8))
    assert first == render_scalp(seed=3, count=20, tone=(1.0, 0.9, 0.8))
    assert first != render_scalp(seed=4, count=20, tone=(1.0, 0.9, 0.8))
    assert Image.open(io.BytesIO(first)).size == (640, 512) and len(first) < 200_000


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
