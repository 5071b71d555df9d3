"""Demo data: marked sites and 6-12 months of measurements for patients with a plan.

Curves follow the storylines: telogen effluvium recovers within 3-6 months (comb and wash counts
fall by more than half), androgenetic alopecia gains density slowly (+5..15 % at 3-6 months), and
two patients do not respond (flat). Seeded, so every demo clinic gets the same values.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.demo.seed import MAIN_CLINIC, PATIENT_USERNAME, DemoContext
from mesoclinic.outcomes import service, sites
from mesoclinic.outcomes.demo_images import add_demo_images
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.models import MeasurementSite, SiteLocation
from mesoclinic.outcomes.schemas import MeasurementCreate, SiteCreate
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import Actor
from mesoclinic.visits.demo import add_historic_visit

STORIES = ("telogen_effluvium", "early_aga", "moderate_aga", "fphl", "biotin_allergy")
PER_CLINIC = {MAIN_CLINIC: 5}  # the other clinic gets the rest of the eight
TOTAL = 8
MONTH = timedelta(days=30.44)
VISIT_MONTHS = (0, 1, 2, 3, 4.5, 6, 9, 12)
SECOND_SITES = (
    (SiteLocation.FRONTAL_HAIRLINE, "1 cm behind the frontal hairline, on the midline"),
    (SiteLocation.CROWN, "2 cm behind the crown whorl, on the midline; tattoo dot"),
    (SiteLocation.LEFT_TEMPORAL, "2 cm above the top of the left ear, in line with its front"),
)


@dataclass(frozen=True)
class Course:
    """How one patient's values move: shedding falls by `shed_drop`, density rises by `gain`."""

    shedding: bool  # telogen effluvium: high counts that recover
    gain: float  # fraction of density gained at the plateau
    shed_drop: float  # fraction of shedding gone at the plateau
    months: float  # how long the patient has been followed


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """Sites and measurements for about eight patients with a plan, in both clinics."""
    book = load_kinds(ctx.settings.measurement_kinds)
    chosen = _chosen(ctx)
    stories = {p.id: story for p, story in ctx.patients}
    slow = [p.id for p in chosen if stories[p.id] != "telogen_effluvium"]
    flat = set(slow[2:6:3])  # two pattern-loss patients who do not respond
    for index, patient in enumerate(chosen):
        rng = random.Random(f"outcomes-demo-{index}")
        course = _course(stories[patient.id], patient.id in flat, rng)
        actor = _clinician(ctx, patient)
        marked = _mark_sites(session, actor, patient, index, rng)
        _measure(session, ctx, actor, patient, marked, course, book, rng)
        _course_visits(session, ctx, patient, stories[patient.id], course)
    ctx.extra["outcomes_demo_patients"] = [p.id for p in chosen]
    add_demo_images(session, ctx)


def _chosen(ctx: DemoContext) -> list[Patient]:
    planned = set(ctx.extra.get("plans", {}))
    demo_user = ctx.staff.get(PATIENT_USERNAME)
    first = [p for p, _ in ctx.patients if demo_user and p.id == demo_user.patient_id]
    candidates = first + [
        p
        for p, story in ctx.patients
        if story in STORIES and str(p.id) in planned and p not in first
    ]
    main_id = ctx.clinics[MAIN_CLINIC].id
    main = [p for p in candidates if p.clinic_id == main_id][: PER_CLINIC[MAIN_CLINIC]]
    other = [p for p in candidates if p.clinic_id != main_id][: TOTAL - len(main)]
    return main + other


def _course(story: str, non_responder: bool, rng: random.Random) -> Course:
    months = rng.choice((6.0, 9.0, 12.0))
    if story == "telogen_effluvium":
        return Course(True, rng.uniform(0.08, 0.14), rng.uniform(0.65, 0.8), months)
    if non_responder:  # nothing moves beyond measurement noise
        return Course(False, 0.0, 0.0, months)
    return Course(False, rng.uniform(0.08, 0.16), rng.uniform(0.2, 0.4), months)


def _clinician(ctx: DemoContext, patient: Patient) -> Actor:
    main = patient.clinic_id == ctx.clinics[MAIN_CLINIC].id
    return ctx.actor("dr.moreau" if main else "dr.garcia")


def _mark_sites(
    session: Session, actor: Actor, patient: Patient, index: int, rng: random.Random
) -> list[MeasurementSite]:
    location, where = SECOND_SITES[index % len(SECOND_SITES)]
    vertex = SiteCreate(
        location=SiteLocation.VERTEX,
        description="Centre of the vertex, 1 cm in front of the whorl; tattoo dot",
        clipped=index % 4 == 0,  # a 1 cm2 patch clipped for phototrichograms
    )
    second = SiteCreate(location=location, description=where)
    return [sites.create(session, actor, patient.id, data) for data in (vertex, second)]


def _approach(months: float, rate: float) -> float:
    """0 at baseline rising towards 1 (exponential approach with time constant `rate`)."""
    return 1 - math.exp(-months / rate)


def _timepoints(ctx: DemoContext, course: Course) -> list[tuple[float, datetime]]:
    start = ctx.now - course.months * MONTH - timedelta(days=3)
    # Whole months of 30.44 days land at any hour; a measurement is taken in clinic hours.
    return [
        (m, (start + m * MONTH).replace(hour=10, minute=30 + 5 * i % 30, second=0))
        for i, m in enumerate(VISIT_MONTHS)
        if m <= course.months
    ]


def _course_visits(
    session: Session, ctx: DemoContext, patient: Patient, story: str, course: Course
) -> None:
    """The sessions the measured course followed: every two weeks for three months, then
    monthly, starting two hours after the baseline values, up to the recent demo visits. Every
    third session of the pattern-loss courses adds PRP."""
    start = _timepoints(ctx, course)[0][1] + timedelta(hours=2)
    recent = ctx.now - timedelta(days=90)  # the visits demo's own sessions are after this
    offsets = [timedelta(days=14 * n) for n in range(7)]
    offsets += [timedelta(days=98 + 30 * n) for n in range(12)]
    for n, offset in enumerate(offsets):
        when = start + offset
        if when >= recent:
            break
        add_historic_visit(
            session, ctx, patient, story, when, prp=not course.shedding and n % 3 == 2
        )


def _measure(
    session: Session,
    ctx: DemoContext,
    actor: Actor,
    patient: Patient,
    marked: list[MeasurementSite],
    course: Course,
    book: KindBook,
    rng: random.Random,
) -> None:
    device = "TrichoScan" if patient.clinic_id == ctx.clinics[MAIN_CLINIC].id else "FotoFinder"
    base = {
        s.id: rng.uniform(150, 190) if course.shedding else rng.uniform(105, 150) for s in marked
    }
    comb = rng.uniform(150, 240) if course.shedding else rng.uniform(35, 70)
    wash = rng.uniform(250, 400) if course.shedding else rng.uniform(80, 150)
    pull = rng.randint(8, 12) if course.shedding else rng.randint(2, 4)
    rater = "Dr S. Patel (photo panel)" if device == "TrichoScan" else "Dra. M. Ortiz (panel)"

    def add(kind: str, value: float, at: datetime, **extra: Any) -> None:
        unit = book.get(kind).unit  # type: ignore[union-attr]
        data = MeasurementCreate(kind=kind, value=value, unit=unit, measured_at=at, **extra)
        service.create(session, actor, patient.id, data, book)

    for months, at in _timepoints(ctx, course):
        gain = course.gain * _approach(months, 2.5)
        shed = 1 - course.shed_drop * _approach(months, 1.8)
        for site in marked:
            noise = rng.gauss(1, 0.02)
            density = round(base[site.id] * (1 + gain) * noise, 1)
            add("density_total", density, at, site_id=site.id, device_name=device)
        add("comb_count_60s", round(comb * shed * rng.gauss(1, 0.05)), at)
        add("wash_count", round(wash * shed * rng.gauss(1, 0.05)), at)
        add("pull_test", max(0, min(60, round(pull * shed + rng.gauss(0, 0.5)))), at)
        shedding_score = 6 - round(4 * (1 - shed)) if course.shedding else 4 - round(3 * (1 - shed))
        add("shedding_score", max(1, min(6, shedding_score)), at)
        if months == 0:
            continue
        photo = min(3, round(gain * 20 + rng.gauss(0, 0.3))) if course.gain else rng.choice((-1, 0))
        add("global_photo_assessment", photo, at, site_id=marked[0].id, rater=rater, blinded=True)
        progress = min(1.0, max(gain / 0.15, (1 - shed) / 0.7))
        satisfaction = 3 + round(6 * progress + rng.gauss(0, 0.5)) if course.gain else 3
        add("patient_satisfaction", max(0, min(10, satisfaction)), at)
