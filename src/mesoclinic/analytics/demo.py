"""Demo data for analytics: a year of the main clinic's past courses, so the analytics page has
real cohorts to compare and a lot that stands out.

Forty-eight patients treated over the last 4-15 months, entered from the clinic's paper records
as the visits demo does for its historic sessions (no lot is deducted and no check runs: the
stock and consent of that time are not in the system). Registration, assessment, consent, the
plan and every measurement go through the services. The storyline, seeded:
- the standard vitamin cocktail (30 patients, 12 of them with PRP at every third session) gains
  about 7 % density at 6 months, with PRP about 5 points more; dutasteride 0.01 % (18 men with
  pattern loss) about 11 %;
- four patients stop after two or three months (plan stopped: counted as drop-outs);
- vitamin lot TV-2607R, later recalled, caused redness or swelling after about a third of its
  sessions, against 4 % for the other lots: the page flags it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from mesoclinic.analytics import service as cohort_service
from mesoclinic.analytics.cohorts import CohortFilter
from mesoclinic.analytics.schemas import CohortCreate
from mesoclinic.assessment import service as assessment_service
from mesoclinic.assessment.rulebook import get_rulebook
from mesoclinic.assessment.schemas import AssessmentCreate, Staging
from mesoclinic.demo.people import distinct_name
from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.errors import InvalidInput, InvalidTransition
from mesoclinic.formulary.models import Lot
from mesoclinic.outcomes import plan_reviews, sites
from mesoclinic.outcomes import service as outcome_service
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.models import SiteLocation
from mesoclinic.outcomes.responders import load_responder_rules
from mesoclinic.outcomes.schemas import MeasurementCreate, PlanReviewCreate, SiteCreate
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.patients.schemas import ConsentCreate, PatientCreate
from mesoclinic.plans import service as plan_service
from mesoclinic.plans.schemas import PlanCreate
from mesoclinic.security.actor import Actor
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot

MONTH = timedelta(days=30.44)
VITAMIN, DUTASTERIDE = "Standard vitamin cocktail", "Dutasteride 0.01 %"
BAD_LOT = "TV-2607R"
PAST_COURSES = 48  # patients this step registers
GOOD_VITAMIN_LOTS = ("TV-2611A", "TV-2512X")


@dataclass(frozen=True)
class Course:
    sex: str
    diagnosis: str
    stage: tuple[str, str] | None
    cocktail: str
    protocol: str
    prp: bool
    gain_6m: float  # fraction of density gained by 6 months (plateaus after)
    months: float  # how long ago the first session was
    stopped_after: float | None  # months, for a drop-out


def courses(rng: random.Random) -> list[Course]:
    """The PAST_COURSES (48) seeded courses of the storyline."""
    out = []
    for i in range(30):
        prp = i % 5 in (1, 3)  # 12 of 30
        female = i % 3 != 0
        if i % 4 == 0:
            diagnosis, stage = "telogen_effluvium", None
        elif female:
            diagnosis, stage = "female_pattern_hair_loss", ("ludwig", rng.choice(("I", "I", "II")))
        else:
            diagnosis, stage = (
                "androgenetic_alopecia",
                ("norwood_hamilton", rng.choice(("II", "III"))),
            )
        gain = rng.gauss(0.07 + (0.05 if prp else 0.0), 0.045)
        out.append(
            Course(
                "female" if female else "male",
                diagnosis,
                stage,
                VITAMIN,
                "meso-prp" if prp else "standard-vitamin",
                prp,
                gain,
                rng.uniform(4.5, 15.0),
                rng.uniform(2.0, 3.0) if i in (7, 22) else None,
            )
        )
    for i in range(18):
        stage = ("norwood_hamilton", rng.choice(("III", "III-vertex", "IV", "IV", "V")))
        out.append(
            Course(
                "male",
                "androgenetic_alopecia",
                stage,
                DUTASTERIDE,
                "dutasteride",
                False,
                rng.gauss(0.11, 0.05),
                rng.uniform(4.5, 15.0),
                rng.uniform(2.0, 3.0) if i in (4, 13) else None,
            )
        )
    return out


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """The 48 past courses of the main clinic, each through registration to its values."""
    rng = random.Random("analytics-demo-2026")
    actor = ctx.actor("dr.moreau")
    lots = {lot.batch_number: lot for lot, _reserve in ctx.extra["formulary"]["lots"].values()}
    taken = {(p.given_name, p.family_name) for p, _story in ctx.patients}
    registered = []
    for index, course in enumerate(courses(rng)):
        patient = _register(session, ctx, actor, course, index, rng, taken)
        start = (ctx.now - course.months * MONTH).replace(hour=10, minute=0, second=0)
        _assess_and_plan(session, ctx, actor, patient, course, start)
        _sessions(session, ctx, patient, course, start, lots, rng)
        _measure(session, ctx, actor, patient, course, start, rng)
        registered.append(patient)
    _review_plans(session, ctx, actor, registered, rng)
    _save_cohorts(session, ctx)
    ctx.extra["analytics_demo_patients"] = index + 1


REVIEW_REASONS = (
    "Reviewed at the 6-month visit: modest gain on photos; the patient wishes to complete the "
    "course.",
    "Slow responder: shedding has settled; continue to the 12-month measurement.",
    "Discussed the figures with the patient: continue unchanged, re-measure at the next visit.",
)


def _review_plans(
    session: Session, ctx: DemoContext, actor: Actor, patients: list[Patient], rng: random.Random
) -> None:
    """The past courses' non-responders were reviewed by Dr Moreau and continue unchanged (as a
    clinic does at the 6-month visit), so the dashboard asks only about the storyline's own
    non-responder until a new value is measured."""
    kinds = load_kinds(ctx.settings.measurement_kinds)
    rules = load_responder_rules(ctx.settings.responder_rules)
    for patient in patients:
        reason = REVIEW_REASONS[rng.randrange(len(REVIEW_REASONS))]
        try:
            plan_reviews.record(
                session, actor, patient.id, PlanReviewCreate(reason=reason), kinds, rules
            )
        except (InvalidInput, InvalidTransition):
            continue  # a responder, or a plan that is no longer active: nothing to review


def _save_cohorts(session: Session, ctx: DemoContext) -> None:
    """The comparison the clinic asked about, saved for the main clinic and for the group."""
    alone = CohortFilter(cocktail=(VITAMIN,), prp=False)
    with_prp = CohortFilter(cocktail=(VITAMIN,), prp=True)
    for username in ("dr.moreau", "admin"):
        actor = ctx.actor(username)
        for name, filt in (
            ("Vitamin cocktail alone", alone),
            ("Vitamin cocktail with PRP", with_prp),
        ):
            cohort_service.create_cohort(session, actor, CohortCreate(name=name, filter=filt))
        cohort_service.create_cohort(
            session,
            actor,
            CohortCreate(
                name="Dutasteride, men with pattern loss",
                filter=CohortFilter(cocktail=(DUTASTERIDE,), sex="male"),
            ),
        )


def _register(
    session: Session,
    ctx: DemoContext,
    actor: Actor,
    course: Course,
    index: int,
    rng: random.Random,
    taken: set[tuple[str, str]],
) -> Patient:
    given, family = distinct_name(rng, course.sex, index, taken)
    age = rng.randint(23, 62)
    return patient_service.create(
        session,
        actor,
        PatientCreate(
            given_name=given,
            family_name=family,
            sex=course.sex,
            birth_date=date(ctx.now.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            phone=f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            email=f"{given.lower()}.{family.lower()}.{index}@example.org",
            city="London",
            country="GB",
            postal_code=rng.choice(("W1G", "NW1", "SW3", "N1")),
        ),
        ctx.clinics[MAIN_CLINIC].id,
    )


def _assess_and_plan(
    session: Session,
    ctx: DemoContext,
    actor: Actor,
    patient: Patient,
    course: Course,
    start: datetime,
) -> None:
    when = start - timedelta(days=7)
    for procedure in ("mesotherapy", "prp") if course.prp else ("mesotherapy",):
        consent_service.sign(
            session,
            actor,
            patient.id,
            ConsentCreate(procedure=procedure, signed_by=patient.full_name, signed_at=when),
        )
    staging = Staging(scale=course.stage[0], grade=course.stage[1]) if course.stage else None
    rulebook = get_rulebook(ctx.settings.rulebook)
    assessment_service.create(
        session,
        actor,
        patient.id,
        AssessmentCreate(
            assessed_at=when,
            diagnosis=course.diagnosis,
            staging=staging,
            complaint="Thinning over the last year",
        ),
        rulebook,
    )
    plan = plan_service.create(
        session,
        actor,
        patient.id,
        PlanCreate(protocol_code=course.protocol, start_date=start.date()),
        rulebook=rulebook,
        protocols_path=ctx.settings.protocols,
    )
    if course.stopped_after is not None:
        reason = "Patient stopped coming after the first months (moved away)"
        plan_service.transition(session, actor, plan.id, "stop", reason)
    elif course.months >= 12.5:
        plan_service.transition(session, actor, plan.id, "complete")


def _session_days(course: Course) -> list[float]:
    """Every two weeks for three months, then monthly, up to today or the drop-out."""
    days = [14.0 * n for n in range(7)] + [98.0 + 30 * n for n in range(12)]
    end = (course.stopped_after or course.months) * 30.44 - 3
    return [d for d in days if d <= end]


def _sessions(
    session: Session,
    ctx: DemoContext,
    patient: Patient,
    course: Course,
    start: datetime,
    lots: dict[str, Lot],
    rng: random.Random,
) -> None:
    who = ctx.staff["dr.moreau" if rng.random() < 0.7 else "nurse.evans"]
    cocktail = ctx.extra["formulary"]["cocktails"][course.cocktail]
    for n, day in enumerate(_session_days(course)):
        if course.cocktail == VITAMIN:
            batch = BAD_LOT if 90 <= day <= 240 else GOOD_VITAMIN_LOTS[n % 2]
        else:
            batch = "DU-2601"
        visit = Visit(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            practitioner_id=who.id,
            performed_at=start + timedelta(days=day),
            cocktail_id=cocktail.id,
            technique="nappage" if course.cocktail == VITAMIN else "point_by_point",
            zones=["vertex", "mid_scalp", "frontal"],
            depth_mm=1.5 if course.cocktail == VITAMIN else 2.0,
            points=60,
            volume_per_point_ml=0.05,
            total_volume_ml=3.0,
            needle_gauge=30,
            needle_length_mm=4,
            prp_given=course.prp and n % 3 == 2,
            prp_volume_ml=4.0 if course.prp and n % 3 == 2 else None,
            notes="Entered from the clinic's paper record.",
            created_by=who.username,
            updated_by=who.username,
        )
        session.add(visit)
        session.flush()
        session.add(VisitLot(visit_id=visit.id, lot_id=lots[batch].id, volume_ul=3000))
        odds = 0.33 if batch == BAD_LOT else 0.04
        if rng.random() < odds:
            kind = rng.choice(("redness", "swelling", "itching"))
            session.add(
                AdverseEvent(
                    visit_id=visit.id,
                    type=kind,
                    severity="mild",
                    onset="same_day",
                    outcome="resolved",
                )  # fmt: skip
            )
        else:
            session.add(AdverseEvent(visit_id=visit.id, type="none"))
    session.flush()


def _measure(
    session: Session,
    ctx: DemoContext,
    actor: Actor,
    patient: Patient,
    course: Course,
    start: datetime,
    rng: random.Random,
) -> None:
    book = load_kinds(ctx.settings.measurement_kinds)
    site = sites.create(
        session,
        actor,
        patient.id,
        SiteCreate(location=SiteLocation.VERTEX, description="Centre of the vertex; tattoo dot"),
    )
    base = rng.uniform(110, 160)
    followed = course.stopped_after or course.months
    for months in (0, 3, 6, 12):
        if months > followed - 0.2:
            break
        gain = course.gain_6m * min(months / 6, 1.0) * (1.1 if months == 12 else 1.0)
        value = round(base * (1 + gain) * rng.gauss(1, 0.015), 1)
        when = start + timedelta(days=months * 30.44 + rng.uniform(-6, 6))
        if months == 0:
            when = start - timedelta(hours=2)
        outcome_service.create(
            session,
            actor,
            patient.id,
            MeasurementCreate(
                kind="density_total",
                value=value,
                unit="/cm2",
                measured_at=when,
                site_id=site.id,
                device_name="TrichoScan",
            ),
            book,
        )
