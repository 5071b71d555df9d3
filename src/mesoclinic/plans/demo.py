"""Demo data: plans for the treatable demo patients, this week's and next week's calendar.

Each treatable patient (the assessment gate finds nothing) gets a plan that started the day
after their latest demo assessment, so early sessions are done and later ones are ahead.
Sessions from a week ago to the end of next week are booked across the clinic's practitioners
and rooms. One plan is paused, one was stopped for a reason and replaced, one session was
missed, and the main clinic has a closure day next week.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.assessment.gate import clinic_rulebook
from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.patients.models import Patient
from mesoclinic.plans import appointments, booking, clinic_calendar
from mesoclinic.plans import service as plan_service
from mesoclinic.plans.models import (
    AppointmentStatus,
    PlanSession,
    PlanSessionStatus,
    PlanStatus,
    TreatmentPlan,
)
from mesoclinic.plans.schemas import AppointmentCreate, ClosureCreate, PlanCreate
from mesoclinic.security.actor import Actor

ROTATION = ("standard-vitamin", "intensive-induction", "minoxidil", "meso-prp", "dutasteride")
SLOT_MINUTES = 70  # room for a 60-minute PRP session plus turnover


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """Plans, appointments, a paused and a stopped plan, and a closure day."""
    today = ctx.now.date()
    closure = _next_weekday(today + timedelta(days=8), 2)
    clinic_calendar.add_closure(
        session,
        ctx.actor("dr.moreau"),
        ctx.clinics[MAIN_CLINIC].id,
        ClosureCreate(closed_on=closure, reason="Staff training day"),
    )
    plans: list[TreatmentPlan] = []
    for index, (patient, _story) in enumerate(ctx.patients):
        plan = _plan_for(session, ctx, patient, index)
        if plan is not None:
            plans.append(plan)
    _mark_past(session, plans, today)
    _special_cases(session, ctx, plans)
    _book_fortnight(session, ctx, plans, today)
    ctx.extra["plans"] = {
        str(p.patient_id): str(p.id)
        for p in plans
        if p.status in (PlanStatus.ACTIVE, PlanStatus.PAUSED)
    }


def _clinician(ctx: DemoContext, patient: Patient) -> Actor:
    main = patient.clinic_id == ctx.clinics[MAIN_CLINIC].id
    return ctx.actor("dr.moreau" if main else "dr.garcia")


def _plan_for(
    session: Session, ctx: DemoContext, patient: Patient, index: int
) -> TreatmentPlan | None:
    protocols = plan_service.protocol_book(ctx.settings.protocols)
    rules = clinic_rulebook(ctx.settings.rulebook)
    by_code = {p.code: p for p in protocols}
    for offset in range(len(ROTATION)):
        code = ROTATION[(index + offset) % len(ROTATION)]
        if code == "dutasteride" and patient.sex != "male":
            continue  # pregnancy must be avoided for 6 months after dutasteride
        if plan_service.treatment_findings(session, patient.id, by_code[code], rules):
            continue
        if plan_service.planning_findings(session, patient, by_code[code]):
            continue  # the clinician picks a protocol whose cocktail the patient tolerates
        start = ctx.now.date() - timedelta(days=13 + index)
        return plan_service.create(
            session,
            _clinician(ctx, patient),
            patient.id,
            PlanCreate(protocol_code=code, start_date=start),
            rulebook=rules,
            protocols_path=ctx.settings.protocols,
        )
    return None


def _mark_past(session: Session, plans: list[TreatmentPlan], today: date) -> None:
    for plan in plans:
        for item in plan.sessions:
            if item.planned_date < today:
                item.status = PlanSessionStatus.DONE
    session.flush()


def _special_cases(session: Session, ctx: DemoContext, plans: list[TreatmentPlan]) -> None:
    """A missed session, a paused plan, and a stopped plan replaced by another protocol."""
    if len(plans) < 4:
        return
    missed = _last_done(plans[1])
    if missed is not None:
        missed.status = PlanSessionStatus.MISSED
    plan_service.transition(
        session,
        _writer(session, ctx, plans[2]),
        plans[2].id,
        "pause",
        "Summer holiday abroad for five weeks; resume on return",
    )
    stopped = plans[3]
    actor = _writer(session, ctx, stopped)
    plan_service.transition(
        session,
        actor,
        stopped.id,
        "stop",
        "Scalp irritation after the vitamin cocktail; switching protocol",
    )
    patient = session.get(Patient, stopped.patient_id)
    assert patient is not None
    book = {p.code: p for p in plan_service.protocol_book(ctx.settings.protocols)}
    replacement = next(
        code
        for code in ("minoxidil", "standard-vitamin", "intensive-induction")
        if code != stopped.protocol_code
        and not plan_service.planning_findings(session, patient, book[code])
    )
    plans[3] = plan_service.create(
        session,
        actor,
        stopped.patient_id,
        PlanCreate(protocol_code=replacement, start_date=ctx.now.date() + timedelta(days=2)),
        rulebook=clinic_rulebook(ctx.settings.rulebook),
        protocols_path=ctx.settings.protocols,
    )


def _writer(session: Session, ctx: DemoContext, plan: TreatmentPlan) -> Actor:
    patient = session.get(Patient, plan.patient_id)
    assert patient is not None
    return _clinician(ctx, patient)


def _last_done(plan: TreatmentPlan) -> PlanSession | None:
    done = [s for s in plan.sessions if s.status == PlanSessionStatus.DONE]
    return done[-1] if done else None


def _book_fortnight(
    session: Session, ctx: DemoContext, plans: list[TreatmentPlan], today: date
) -> None:
    # From a week ago (done) to the end of next week (booked).
    monday = today - timedelta(days=today.weekday())
    first, last = today - timedelta(days=7), monday + timedelta(days=13)
    used: dict[tuple[Any, date], int] = {}
    for plan in plans:
        if plan.status != PlanStatus.ACTIVE:
            continue
        for item in plan.sessions:
            if first <= item.planned_date <= last and item.status in (
                PlanSessionStatus.PLANNED,
                PlanSessionStatus.DONE,
            ):
                _book(session, ctx, plan, item, used, today)


def _book(
    session: Session,
    ctx: DemoContext,
    plan: TreatmentPlan,
    item: PlanSession,
    used: dict[tuple[Any, date], int],
    today: date,
) -> None:
    cal = clinic_calendar.load(session, plan.clinic_id)
    people = booking.practitioners(session, plan.clinic_id)
    index = used.get((plan.clinic_id, item.planned_date), 0)
    used[(plan.clinic_id, item.planned_date)] = index + 1
    # Vary the first slot of the day (09:00 to 12:00) so the calendar looks like a real week.
    first = datetime.combine(item.planned_date, time(9, 0), cal.timezone) + timedelta(
        minutes=45 * (item.planned_date.toordinal() % 5)
    )
    starts = first + timedelta(minutes=SLOT_MINUTES * (index // len(people)))
    main = plan.clinic_id == ctx.clinics[MAIN_CLINIC].id
    actor = ctx.actor("reception.khan" if main else "dr.garcia")
    appointment = booking.book(
        session,
        actor,
        AppointmentCreate(
            patient_id=plan.patient_id,
            practitioner_id=people[index % len(people)].id,
            room=cal.rooms[index % len(cal.rooms)],
            starts_at=starts,
            duration_minutes=60 if item.includes_prp else 30,
        ),
        plan_session=item,
        allow_past=True,
    )
    item.appointment_id = appointment.id
    if item.planned_date < today:
        item.status = PlanSessionStatus.BOOKED
        appointments.change_status(session, actor, appointment.id, AppointmentStatus.DONE)
    else:
        item.status = PlanSessionStatus.BOOKED
    session.flush()


def _next_weekday(day: date, weekday: int) -> date:
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day
