"""Treatment plan use cases: create from a protocol, change status, reschedule, read.

Services flush, never commit. `upcoming_appointments` and `plan_sessions_for` are the read
functions other areas (aftercare, visits) build on; they do no permission check or audit, so
their callers must have checked scope and audit what they show.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.assessment.rulebook import Rulebook
from mesoclinic.assessment.service import treatment_gate
from mesoclinic.db import utcnow
from mesoclinic.errors import Conflict, InvalidTransition, NotFound, RuleViolation
from mesoclinic.findings import Finding
from mesoclinic.formulary import service as formulary_service
from mesoclinic.formulary.allergens import check_allergies
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.history import active
from mesoclinic.patients.models import Patient
from mesoclinic.plans import appointments, clinic_calendar
from mesoclinic.plans.models import (
    Appointment,
    AppointmentStatus,
    PlanSession,
    PlanSessionStatus,
    PlanStatus,
    TreatmentPlan,
)
from mesoclinic.plans.protocols import Protocol, load_protocols
from mesoclinic.plans.schedule import PlannedSession, generate_sessions, reschedule
from mesoclinic.plans.schemas import PlanCreate
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

# Allowed status changes: action -> (from statuses, to status).
OPEN_PLAN_STATUSES = frozenset({PlanStatus.DRAFT, PlanStatus.ACTIVE, PlanStatus.PAUSED})
TRANSITIONS: dict[str, tuple[frozenset[PlanStatus], PlanStatus]] = {
    "activate": (frozenset({PlanStatus.DRAFT}), PlanStatus.ACTIVE),
    "pause": (frozenset({PlanStatus.ACTIVE}), PlanStatus.PAUSED),
    "resume": (frozenset({PlanStatus.PAUSED}), PlanStatus.ACTIVE),
    "complete": (frozenset({PlanStatus.ACTIVE, PlanStatus.PAUSED}), PlanStatus.COMPLETED),
    "stop": (OPEN_PLAN_STATUSES, PlanStatus.STOPPED),
}


def upcoming_appointments(
    session: Session, patient_id: uuid.UUID, *, after: datetime
) -> list[Appointment]:
    """The patient's booked or arrived appointments starting at or after `after`, soonest first."""
    stmt = (
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.starts_at >= after,
            Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
        )
        .order_by(Appointment.starts_at)
    )
    return list(session.execute(stmt).scalars())


def plan_sessions_for(session: Session, patient_id: uuid.UUID) -> list[PlanSession]:
    """Sessions of the patient's active or paused plans, by date."""
    stmt = (
        select(PlanSession)
        .join(TreatmentPlan)
        .where(
            TreatmentPlan.patient_id == patient_id,
            TreatmentPlan.status.in_((PlanStatus.ACTIVE, PlanStatus.PAUSED)),
        )
        .order_by(PlanSession.planned_date, PlanSession.sequence)
    )
    return list(session.execute(stmt).scalars())


def protocol_book(path: Path | None = None) -> Sequence[Protocol]:
    """Every protocol template the clinic offers."""
    return load_protocols(path).protocols


def treatment_findings(
    session: Session, patient_id: uuid.UUID, protocol: Protocol, rulebook: Rulebook
) -> list[Finding]:
    """The assessment gate's findings for the protocol's procedures (empty = allowed)."""
    procedures = ["mesotherapy"] + (["prp"] if protocol.includes_prp else [])
    findings: list[Finding] = []
    for procedure in procedures:
        findings += [
            f for f in treatment_gate(session, patient_id, rulebook, procedure) if f not in findings
        ]
    return findings


def _check_gate(
    session: Session, plan: TreatmentPlan, protocol: Protocol, rulebook: Rulebook
) -> None:
    findings = treatment_findings(session, plan.patient_id, protocol, rulebook)
    if findings:
        raise RuleViolation(
            "This plan cannot start: " + "; ".join(f.reason for f in findings),
            [f.as_dict() for f in findings],
            code="treatment_gate",
        )


def planning_findings(session: Session, patient: Patient, protocol: Protocol) -> list[Finding]:
    """Allergies to the protocol's cocktail, known now: the visit check's own allergy rule.

    At the visit the finding refuses; at planning it is a warning the clinician confirms (the
    cocktail can still be changed before the first visit).
    """
    cocktail = formulary_service.cocktail_named(session, protocol.cocktail or "")
    if cocktail is None:
        return []
    allergies = [a.substance for a in active(patient.allergies)]
    found = check_allergies(formulary_service.ingredient_facts(cocktail), allergies)
    return [replace(f, severity="warning") for f in found]


def _refuse_unconfirmed(findings: list[Finding], confirmed: list[str]) -> list[str]:
    """The confirmed rule ids, or RuleViolation listing the warnings still to confirm."""
    pending = [f for f in findings if f.rule_id not in set(confirmed)]
    if pending:
        raise RuleViolation(
            "Confirm these warnings to create the plan: " + "; ".join(f.reason for f in pending),
            [f.as_dict() for f in pending],
            code="warnings_need_confirmation",
        )
    return sorted({f.rule_id for f in findings})


def _refuse_second_open_plan(
    session: Session, patient_id: uuid.UUID, keep: uuid.UUID | None = None
) -> None:
    existing = (
        session.execute(
            select(TreatmentPlan).where(
                TreatmentPlan.patient_id == patient_id,
                TreatmentPlan.status.in_((PlanStatus.ACTIVE, PlanStatus.PAUSED)),
                TreatmentPlan.id != keep,
            )
        )
        .scalars()
        .first()
    )
    if existing is not None:
        raise Conflict(
            f"The patient already has a {existing.status} plan "
            f"({existing.protocol_name}); complete or stop it first",
            "protocol_code",
            code="open_plan_exists",
        )


def create(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: PlanCreate,
    *,
    rulebook: Rulebook,
    protocols_path: Path | None = None,
) -> TreatmentPlan:
    """Generate a plan's dated sessions from a protocol; activating it passes the gate first."""
    patient = patient_service.load(session, actor, patient_id, Permission.PLAN_WRITE)
    patient_service.check_clinical_date(
        patient, data.start_date, "start_date", "The first session date", may_be_future=True
    )
    protocol = load_protocols(protocols_path).get(data.protocol_code)
    confirmed = _refuse_unconfirmed(
        planning_findings(session, patient, protocol), data.confirmed_warnings
    )
    calendar = clinic_calendar.load(session, patient.clinic_id)
    planned = generate_sessions(protocol, data.start_date, calendar.opening_days, calendar.closures)
    plan = TreatmentPlan(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        protocol_code=protocol.code,
        protocol_name=protocol.name,
        protocol_source=protocol.source,
        start_date=planned[0].planned_date,
        status=PlanStatus.DRAFT,
        notes=data.notes,
        created_by=actor.username,
        updated_by=actor.username,
    )
    plan.sessions = [PlanSession(**asdict(p)) for p in planned]
    if data.activate:
        _refuse_second_open_plan(session, patient.id)
        _check_gate(session, plan, protocol, rulebook)
        plan.status, plan.activated_at = PlanStatus.ACTIVE, utcnow()
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "treatment_plan",
        plan.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={
            "protocol": protocol.code,
            "start_date": plan.start_date.isoformat(),
            "status": plan.status,
            "sessions": len(planned),
            "confirmed_warnings": confirmed,
        },
    )
    return plan


def load_plan(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    permission: Permission = Permission.PLAN_READ,
) -> TreatmentPlan:
    """A plan the actor may see (scope as for its patient), without auditing."""
    return patient_service.load_owned(session, actor, TreatmentPlan, plan_id, permission, "Plan")


def get(session: Session, actor: Actor, plan_id: uuid.UUID) -> TreatmentPlan:
    """Read one plan with its sessions, auditing the read."""
    plan = load_plan(session, actor, plan_id)
    audit.record(
        session,
        actor,
        "read",
        "treatment_plan",
        plan.id,
        patient_id=plan.patient_id,
        clinic_id=plan.clinic_id,
    )
    return plan


def list_for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[TreatmentPlan]:
    """The patient's plans, newest first, auditing the read."""
    patient = patient_service.load(session, actor, patient_id, Permission.PLAN_READ)
    plans = list(
        session.execute(
            select(TreatmentPlan)
            .where(TreatmentPlan.patient_id == patient.id)
            .order_by(TreatmentPlan.created_at.desc())
        ).scalars()
    )
    audit.record(
        session,
        actor,
        "read",
        "treatment_plan",
        None,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"plans": [str(p.id) for p in plans]},
    )
    return plans


def transition(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    action: str,
    reason: str | None = None,
    *,
    rulebook: Rulebook | None = None,
    protocols_path: Path | None = None,
) -> TreatmentPlan:
    """Activate, pause, resume, complete or stop a plan (stopping needs a reason).

    Activating and resuming pass the treatment gate, so they need the screening `rulebook`.
    """
    plan = load_plan(session, actor, plan_id, Permission.PLAN_WRITE)
    allowed_from, target = TRANSITIONS[action]
    if plan.status not in allowed_from:
        raise InvalidTransition(f"A {plan.status} plan cannot be {target}", "status")
    if action == "stop" and not reason:
        raise InvalidTransition("Say why the plan is stopped", "reason")
    if action in ("activate", "resume"):
        _refuse_second_open_plan(session, plan.patient_id, keep=plan.id)
        if rulebook is None:
            raise TypeError(f"{action} checks the treatment gate: pass the screening rulebook")
        protocol = load_protocols(protocols_path).get(plan.protocol_code)
        _check_gate(session, plan, protocol, rulebook)
        plan.activated_at = plan.activated_at or utcnow()
    if target in (PlanStatus.COMPLETED, PlanStatus.STOPPED):
        plan.ended_at = utcnow()
        _close_open_sessions(session, actor, plan, f"plan {target}")
    previous, plan.status, plan.status_reason = plan.status, target, reason
    plan.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        action,
        "treatment_plan",
        plan.id,
        patient_id=plan.patient_id,
        clinic_id=plan.clinic_id,
        detail={"from": previous, "to": target, "reason": reason},
    )
    return plan


def _close_open_sessions(session: Session, actor: Actor, plan: TreatmentPlan, why: str) -> None:
    for item in plan.sessions:
        if item.status == PlanSessionStatus.BOOKED and item.appointment_id is not None:
            appointments.release_for_plan(session, actor, item.appointment_id, why)
        if item.status in (PlanSessionStatus.PLANNED, PlanSessionStatus.BOOKED):
            item.status, item.appointment_id = PlanSessionStatus.CANCELLED, None


def plan_session_by_number(plan: TreatmentPlan, sequence: int) -> PlanSession:
    for item in plan.sessions:
        if item.sequence == sequence:
            return item
    raise NotFound(f"There is no session {sequence} in this plan", "sequence")


def reschedule_session(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    sequence: int,
    new_date: date,
    *,
    permission: Permission = Permission.PLAN_WRITE,
    protocols_path: Path | None = None,
) -> TreatmentPlan:
    """Move a planned or missed session; later sessions shift to keep minimum intervals."""
    plan = load_plan(session, actor, plan_id, permission)
    if plan.status not in OPEN_PLAN_STATUSES:
        raise InvalidTransition(f"A {plan.status} plan cannot be changed", "status")
    target = plan_session_by_number(plan, sequence)
    if target.status not in (PlanSessionStatus.PLANNED, PlanSessionStatus.MISSED):
        raise InvalidTransition(
            f"Session {sequence} is {target.status}; only planned or "
            "missed sessions can be moved (cancel its appointment first)",
            "sequence",
        )
    later = [
        s for s in plan.sessions if s.sequence > sequence and s.status != PlanSessionStatus.PLANNED
    ]
    if later:
        raise Conflict(
            f"Session {later[0].sequence} is already {later[0].status}; "
            "cancel its appointment before moving an earlier session",
            "sequence",
        )
    moved = _apply_reschedule(session, plan, sequence, new_date, protocols_path)
    target.status = PlanSessionStatus.PLANNED
    plan.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "reschedule",
        "treatment_plan",
        plan.id,
        patient_id=plan.patient_id,
        clinic_id=plan.clinic_id,
        detail={"sequence": sequence, "new_date": new_date.isoformat(), "shifted": moved},
    )
    return plan


def _apply_reschedule(
    session: Session,
    plan: TreatmentPlan,
    sequence: int,
    new_date: date,
    protocols_path: Path | None,
) -> int:
    protocol = load_protocols(protocols_path).get(plan.protocol_code)
    calendar = clinic_calendar.load(session, plan.clinic_id)
    current = [
        PlannedSession(
            s.sequence,
            s.phase,
            s.planned_date,
            s.window_start,
            s.window_end,
            s.min_gap_days,
            s.includes_prp,
        )
        for s in plan.sessions
    ]
    result = reschedule(
        current, sequence - 1, new_date, protocol, calendar.opening_days, calendar.closures
    )
    changed = 0
    for row, new in zip(plan.sessions, result, strict=True):
        if (row.planned_date, row.window_start, row.window_end) != (
            new.planned_date,
            new.window_start,
            new.window_end,
        ):
            changed += 1
        for name, value in asdict(new).items():
            setattr(row, name, value)
    if sequence == 1:
        plan.start_date = new_date
    return changed
