"""Demo trichoscopy images: rendered by the imaging code's synthetic scalp, never real photos.

For a few demo patients, four images of the vertex over nine months; the hair count rises for a
responder and stays flat for a non-responder. Everything is seeded, so the demo is the same on
every machine. Images go through the real store (checked, stripped, content-addressed) and
queue their count analysis like any upload.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.imaging.synthetic import SyntheticHair, draw_trichoscopy
from mesoclinic.outcomes import flows, imagestore, photo_consent
from mesoclinic.outcomes.images_schemas import ImageCreate, PhotoConsentCreate
from mesoclinic.outcomes.models import ImageKind, MeasurementSite, SiteLocation
from mesoclinic.patients.models import Patient

SIZE = (640, 512)  # half an FDU frame: small files, the same optics (profile scales by width)
MONTHS_AGO = (9, 6, 3, 0)
# storyline -> hairs in the field at each visit (responders rise; a non-responder stays flat)
STORIES: dict[str, tuple[int, ...]] = {
    "early_aga": (22, 25, 28, 31),
    "fphl": (18, 20, 23, 25),
    "telogen_effluvium": (20, 26, 30, 33),
    "moderate_aga": (16, 16, 15, 16),
}
PATIENTS_PER_STORY = 1
GRID = (8, 6)  # at most 48 hairs in a frame
# Skin tones as RGB multipliers of the synthetic scalp's median colour (light to dark).
TONES = ((1.08, 1.02, 0.92), (1.0, 0.95, 0.85), (0.82, 0.72, 0.62), (0.6, 0.5, 0.42))


def _hairs(rng: random.Random, count: int) -> list[SyntheticHair]:
    """Hairs on a jittered grid (so they rarely cross), growing one way, a few fine (vellus)."""
    width, height = SIZE
    cell_w, cell_h = (width - 60) / GRID[0], (height - 70) / GRID[1]
    cells = [(c, r) for c in range(GRID[0]) for r in range(GRID[1])]
    rng.shuffle(cells)
    direction = rng.uniform(60, 120)
    hairs = []
    for col, row in cells[:count]:
        vellus = rng.random() < 0.2
        hairs.append(
            SyntheticHair(
                x=30 + cell_w * (col + rng.uniform(0.2, 0.8)),
                y=50 + cell_h * (row + rng.uniform(0.3, 0.9)),  # below the profile's text bar
                angle_deg=direction + rng.gauss(0, 12),
                length=rng.uniform(25, 40) if vellus else rng.uniform(45, 75),
                width=rng.uniform(1.5, 2.5) if vellus else rng.uniform(3.5, 5.5),
            )
        )
    return hairs


def render_scalp(seed: int, count: int, tone: tuple[float, float, float]) -> bytes:
    """One synthetic 70x frame as a JPEG, tinted to a skin tone."""
    rng = random.Random(seed)
    pixels = draw_trichoscopy(_hairs(rng, count), size=SIZE, seed=seed).astype(np.float32)
    pixels *= np.array(tone, dtype=np.float32)
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=92)
    return out.getvalue()


def _vertex_site(session: Session, patient: Patient, username: str) -> MeasurementSite:
    """The patient's vertex site (made here when the sites demo has not made one)."""
    site = (
        session.execute(
            select(MeasurementSite).where(
                MeasurementSite.patient_id == patient.id,
                MeasurementSite.location == SiteLocation.VERTEX,
            )
        )
        .scalars()
        .first()
    )
    if site is None:
        site = MeasurementSite(
            patient_id=patient.id,
            location=SiteLocation.VERTEX,
            label="Vertex",
            description="Centre of the whorl; 1 cm right of it, tattoo dot",
            created_by=username,
            updated_by=username,
        )
        session.add(site)
        session.flush()
    return site


def add_demo_images(session: Session, ctx: DemoContext) -> None:
    """Photo consents and a series of vertex trichoscopy images for a few demo patients."""
    taken: dict[str, int] = {}
    measured = set(ctx.extra.get("outcomes_demo_patients", []))
    # Patients with measured results first, so their Outcomes and Images tabs tell one story.
    ordered = sorted(ctx.patients, key=lambda item: item[0].id not in measured)
    for n, (patient, story) in enumerate(ordered):
        counts = STORIES.get(story)
        if counts is None or taken.get(story, 0) >= PATIENTS_PER_STORY:
            continue
        taken[story] = taken.get(story, 0) + 1
        username = "dr.moreau" if patient.clinic_id == ctx.clinics[MAIN_CLINIC].id else "dr.garcia"
        _patient_images(session, ctx, patient, username, counts, n)


def _patient_images(
    session: Session,
    ctx: DemoContext,
    patient: Patient,
    username: str,
    counts: tuple[int, ...],
    n: int,
) -> None:
    actor = ctx.actor(username)
    first = ctx.now - timedelta(days=30 * MONTHS_AGO[0] + 14)
    photo_consent.record(
        session,
        actor,
        patient.id,
        PhotoConsentCreate(
            signed_at=first,
            signed_by=patient.full_name,
            clinical_record=True,
            teaching=n % 2 == 0,
            marketing=n % 3 == 0,
        ),
    )
    site = _vertex_site(session, patient, username)
    tone = TONES[n % len(TONES)]
    for visit, (months, count) in enumerate(zip(MONTHS_AGO, counts, strict=True)):
        data = render_scalp(seed=1000 * n + visit, count=count, tone=tone)
        prepared = imagestore.prepare(
            data,
            max_bytes=ctx.settings.image_max_bytes,
            max_pixels=ctx.settings.image_max_pixels,
        )
        day = ctx.now - timedelta(days=30 * months + 7)
        # In clinic hours (09:00-13:00 UTC), each patient at their own time of day.
        taken_at = day.replace(hour=9 + n % 5, minute=15 * (visit % 4), second=0)
        description = ImageCreate(kind=ImageKind.TRICHOSCOPY, site_id=site.id, taken_at=taken_at)
        flows.upload_one(
            session,
            actor,
            patient.id,
            description,
            f"vertex-{taken_at:%Y-%m-%d}.jpg",
            prepared,
            ctx.settings.images_dir,
        )
