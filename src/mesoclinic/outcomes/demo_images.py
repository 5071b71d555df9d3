"""Demo trichoscopy images: rendered by the imaging code's synthetic scalp, never real photos.

For a few demo patients, four images of the vertex over nine months; the hair count rises for a
responder and stays flat for a non-responder. Everything is seeded, so the demo is the same on
every machine. Images go through the real store (checked, stripped, content-addressed) and
queue their count analysis like any upload.
"""

from __future__ import annotations

import io
import math
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
# storyline -> hairs in the field at each visit (responders rise; a non-responder stays flat).
# The fdu-70x field at this size is about 0.098 cm2 below the text bar, so 12 hairs read as about
# 120 hairs/cm2: the same range as the demo's device readings (outcomes/demo.py).
STORIES: dict[str, tuple[int, ...]] = {
    "early_aga": (12, 13, 14, 15),
    "fphl": (11, 12, 13, 14),
    "telogen_effluvium": (14, 16, 18, 19),
    "moderate_aga": (12, 12, 11, 12),
}
MAX_HAIRS = max(max(counts) for counts in STORIES.values())
PATIENTS_PER_STORY = 1
GRID = (3, 7)  # columns x rows of follicular-unit cells: at most 21 units in a frame
# Skin colours, light to dark, as the RGB a 70x trichoscope shows (the renderer's skin is a
# neutral blue-grey, so these become per-channel multipliers).
SKIN_RGB = ((205, 188, 178), (192, 165, 146), (165, 128, 105), (125, 92, 72))
RENDERED_SKIN = (145, 148, 168)  # imaging.synthetic's median skin colour
TONES = tuple(
    tuple(c / base for c, base in zip(rgb, RENDERED_SKIN, strict=True)) for rgb in SKIN_RGB
)
UNIT_SIZES = ((1, 2), (0.8, 0.2))  # hairs per follicular unit and their shares
UNIT_SPACING_PX = 9  # between the exits of the hairs of one unit


def _hairs(rng: random.Random, count: int) -> list[SyntheticHair]:
    """Hairs in follicular units of one or two on a jittered grid, lying one way as trimmed
    scalp hair does under a 70x lens; terminal shafts 55-80 um wide, one in five fine (vellus)."""
    width, height = SIZE
    cell_w, cell_h = (width - 40) / GRID[0], (height - 40) / GRID[1]
    cells = [(c, r) for c in range(GRID[0]) for r in range(GRID[1])]
    rng.shuffle(cells)
    direction = rng.choice((rng.uniform(160, 200), rng.uniform(-20, 20)))
    hairs: list[SyntheticHair] = []
    for col, row in cells:
        if len(hairs) >= count:
            break
        size = min(count - len(hairs), rng.choices(*UNIT_SIZES)[0])
        x = 20 + cell_w * (col + rng.uniform(0.3, 0.7))
        y = 36 + cell_h * (row + rng.uniform(0.3, 0.7))  # below the profile's text bar
        unit_angle = direction + rng.gauss(0, 6)
        across = math.radians(unit_angle + 90)
        for k in range(size):
            vellus = rng.random() < 0.2
            hairs.append(
                SyntheticHair(
                    x=x + math.cos(across) * k * UNIT_SPACING_PX,
                    y=y - math.sin(across) * k * UNIT_SPACING_PX,
                    angle_deg=unit_angle + (k - (size - 1) / 2) * rng.uniform(4, 8),
                    length=rng.uniform(60, 110) if vellus else rng.uniform(120, 190),
                    width=rng.uniform(4, 5.5) if vellus else rng.uniform(10, 14),
                )
            )
    return hairs


def render_scalp(seed: int, count: int, tone: tuple[float, ...], visit: int = 0) -> bytes:
    """One synthetic 70x frame of a patient's marked site as a JPEG, tinted to a skin tone.

    The same seed gives the same site: the hairs of an earlier visit stay where they were and
    new ones join them, as in a same-site follow-up; only the camera noise changes per visit.
    """
    hairs = _hairs(random.Random(seed), max(count, MAX_HAIRS))[:count]
    pixels = draw_trichoscopy(hairs, size=SIZE, seed=seed * 10 + visit).astype(np.float32)
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
        data = render_scalp(seed=1000 + n, count=count, tone=tone, visit=visit)
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
