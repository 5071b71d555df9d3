"""Visit use cases: check, record (deducting stock in the same transaction), read, void."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.assessment.rulebook import Rulebook
from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import InvalidInput, InvalidTransition, NotFound, RuleViolation
from mesoclinic.findings import Finding
from mesoclinic.formulary import service as formulary_service
from mesoclinic.formulary import stock
from mesoclinic.formulary.models import Cocktail, Lot
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.history import active
from mesoclinic.patients.models import Patient
from mesoclinic.plans import fulfilment
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission
from mesoclinic.security.service import clinic_timezone
from mesoclinic.visits import rules, screening
from mesoclinic.visits.models import AdverseEvent, ExternalVisit, Visit, VisitLot, VisitStatus
from mesoclinic.visits.rulebook import VisitRulebook
from mesoclinic.visits.schemas import ExternalVisitCreate, VisitCreate

CLOCK_SKEW = timedelta(minutes=10)


@dataclass
class Prepared:
    """What a visit is checked against: the patient, the recipe and the (locked) lots."""

    patient: Patient
    cocktail: Cocktail
    lots: dict[uuid.UUID, Lot]
    visit_date: date
    findings: list[Finding]
    zone: ZoneInfo


@dataclass(frozen=True)
class Rulebooks:
    """The clinic's rulebooks a visit is checked against, handed in by the caller."""

    visit: VisitRulebook
    screening: Rulebook


def _other_visit_days(session: Session, patient_id: uuid.UUID, zone: ZoneInfo) -> tuple[date, ...]:
    """Clinic-local days of the patient's recorded (not voided) visits, with the sessions
    recorded elsewhere (imported): a session given at another clinic a few days ago is still
    too close (docs/decisions.md)."""
    times = session.execute(
        select(Visit.performed_at)
        .where(Visit.patient_id == patient_id, Visit.status == VisitStatus.COMPLETED)
        .union_all(
            select(ExternalVisit.performed_at).where(
                ExternalVisit.patient_id == patient_id,
                ExternalVisit.status == VisitStatus.COMPLETED,
            )
        )
    ).scalars()
    return tuple(t.astimezone(zone).date() for t in times)


def _interval_facts(
    session: Session,
    prep: Prepared,
    window: fulfilment.SessionWindow | None,
    book: VisitRulebook,
) -> rules.IntervalFacts:
    """The protocol's least gap when the visit fulfils a plan session, else the rulebook's."""
    days = _other_visit_days(session, prep.patient.id, prep.zone)
    if window is not None and window.min_gap_days > 0:
        source = (
            f"{window.protocol_source}: the plan's minimum gap before session {window.sequence}"
        )
        return rules.IntervalFacts(days, window.min_gap_days, source)
    return rules.IntervalFacts(days, book.interval.min_days, book.interval.source)


def _plan_session_facts(
    window: fulfilment.SessionWindow | None, zone: ZoneInfo
) -> rules.PlanSessionFacts | None:
    if window is None:
        return None
    starts = window.appointment.starts_at.astimezone(zone) if window.appointment else None
    return rules.PlanSessionFacts(
        sequence=window.sequence,
        planned_date=window.planned_date,
        window_start=window.window_start,
        window_end=window.window_end,
        appointment_day=starts.date() if starts else None,
        appointment_label=starts.strftime("%d %b %Y %H:%M") if starts else None,
    )


def _load_lots(
    session: Session, patient: Patient, data: VisitCreate, lock: bool
) -> dict[uuid.UUID, Lot]:
    ids = [u.lot_id for u in data.lots]
    if lock:
        lots = stock.lock_lots(session, ids)
    else:
        lots = {
            lot.id: lot for lot in session.execute(select(Lot).where(Lot.id.in_(ids))).scalars()
        }
    for lot_id in ids:
        lot = lots.get(lot_id)
        if lot is None or lot.clinic_id != patient.clinic_id:
            raise NotFound(f"Lot {lot_id} not found in this clinic", "lots")
    return lots


def _consented(session: Session, patient_id: uuid.UUID, procedure: str, data: VisitCreate) -> bool:
    """A current consent signed no later than the visit (a later signature does not count)."""
    consent = consent_service.current_consent(session, patient_id, procedure)
    return consent is not None and consent.signed_at <= data.performed_at


def _facts(
    session: Session,
    actor: Actor,
    prep: Prepared,
    data: VisitCreate,
    extra: list[Finding],
    book: VisitRulebook,
) -> rules.VisitFacts:
    patient, cocktail = prep.patient, prep.cocktail
    window = fulfilment.session_window(session, patient.id, data.plan_session_id)
    requested = {u.lot_id: stock.ul(u.volume_ml) for u in data.lots}
    return rules.VisitFacts(
        visit_date=prep.visit_date,
        consent_on_file=_consented(session, patient.id, "mesotherapy", data),
        prp_given=data.prp_given,
        prp_consent_on_file=data.prp_given and _consented(session, patient.id, "prp", data),
        cocktail_name=cocktail.name,
        ingredients=formulary_service.ingredient_facts(cocktail),
        allergies=tuple(a.substance for a in active(patient.allergies)),
        may_prescribe=actor.can(Permission.PRESCRIBE),
        lots=tuple(
            rules.LotFacts(
                batch_number=lot.batch_number,
                product_name=lot.product.name,
                product_matches_cocktail=lot.product.cocktail_id == cocktail.id,
                expires_on=lot.expires_on,
                recalled=lot.recalled_at is not None,
                balance_ul=lot.balance_ul,
                requested_ul=requested[lot.id],
            )
            for lot in (prep.lots[u.lot_id] for u in data.lots)
        ),
        dose=rules.DoseFacts(
            depth_mm=data.depth_mm,
            volume_per_point_ml=data.volume_per_point_ml,
            total_volume_ml=data.total_volume_ml,
            needle_gauge=data.needle_gauge,
            needle_length_mm=data.needle_length_mm,
        ),
        hair_colour_last_date=data.hair_colour_last_date,
        interval=_interval_facts(session, prep, window, book),
        plan_session=_plan_session_facts(window, prep.zone),
        extra=tuple(extra),
    )


def _patient_for_session(
    session: Session, actor: Actor, patient_id: uuid.UUID, performed_at: datetime
) -> Patient:
    """The patient a session is recorded for (in scope, writable, not voided), once its time
    is known to be possible: not in the future, not before their birth. Shared by this
    clinic's visits and the sessions recorded elsewhere."""
    patient = patient_service.load(session, actor, patient_id, Permission.VISIT_WRITE)
    if patient.status != RecordStatus.ACTIVE:
        raise InvalidTransition("This record was voided and cannot be changed")
    if performed_at > utcnow() + CLOCK_SKEW:
        raise InvalidInput(
            "A visit is recorded after it happened: the time is in the future", "performed_at"
        )
    patient_service.check_clinical_date(patient, performed_at, "performed_at", "The visit time")
    return patient


def prepare(
    session: Session, actor: Actor, data: VisitCreate, books: Rulebooks, *, lock: bool
) -> Prepared:
    """Load what the checks need (locking the lots when recording) and run every check."""
    actor.require(Permission.VISIT_WRITE)
    patient = _patient_for_session(session, actor, data.patient_id, data.performed_at)
    patient_service.check_clinical_date(
        patient, data.hair_colour_last_date, "hair_colour_last_date", "The last hair colour date"
    )
    cocktail = formulary_service.get_cocktail(session, data.cocktail_id)
    # Lock the lots before anything else takes a lock (the audit head), so concurrent visits
    # always queue in the same order and the second one sees the first one's deduction.
    lots = _load_lots(session, patient, data, lock)
    # Visit dates are the clinic's local dates.
    zone = ZoneInfo(clinic_timezone(session, patient.clinic_id))
    prep = Prepared(patient, cocktail, lots, data.performed_at.astimezone(zone).date(), [], zone)
    extra = screening.contraindications(
        session, patient, cocktail, prep.visit_date, books.screening
    )
    facts = _facts(session, actor, prep, data, extra, books.visit)
    prep.findings = rules.check_visit(facts, books.visit)
    return prep


def check(session: Session, actor: Actor, data: VisitCreate, books: Rulebooks) -> list[Finding]:
    """Run the safety checks without storing anything (audited as a read of the record)."""
    prep = prepare(session, actor, data, books, lock=False)
    audit.record(
        session,
        actor,
        "read",
        "visit_check",
        None,
        patient_id=prep.patient.id,
        clinic_id=prep.patient.clinic_id,
        detail={"rules": [f.rule_id for f in prep.findings]},
    )
    return prep.findings


def _refuse_unless_safe(findings: list[Finding], confirmed: list[str]) -> None:
    if blocking := rules.blocking(findings):
        raise RuleViolation(
            "The visit was refused by the safety checks: " + "; ".join(f.reason for f in blocking),
            [f.as_dict() for f in findings],
            code="safety_check_failed",
        )
    if pending := rules.unconfirmed(findings, confirmed):
        raise RuleViolation(
            "Confirm these warnings to record the visit: " + "; ".join(f.reason for f in pending),
            [f.as_dict() for f in pending],
            code="warnings_need_confirmation",
        )


def create(session: Session, actor: Actor, data: VisitCreate, books: Rulebooks) -> Visit:
    """Record a completed visit and deduct its lots, or refuse with every finding."""
    if actor.user_id is None:
        raise InvalidInput("A visit needs a practitioner with a user account")
    prep = prepare(session, actor, data, books, lock=True)
    _refuse_unless_safe(prep.findings, data.confirmed_warnings)
    plan_session = fulfilment.plan_session_to_fulfil(session, prep.patient.id, data.plan_session_id)
    confirmed = sorted({f.rule_id for f in prep.findings if f.severity in rules.NEEDS_CONFIRMATION})
    visit = Visit(
        clinic_id=prep.patient.clinic_id,
        patient_id=prep.patient.id,
        practitioner_id=actor.user_id,
        performed_at=data.performed_at,
        plan_session_id=data.plan_session_id,
        cocktail_id=prep.cocktail.id,
        technique=data.technique,
        zones=list(data.zones),
        depth_mm=data.depth_mm,
        points=data.points,
        volume_per_point_ml=data.volume_per_point_ml,
        total_volume_ml=data.total_volume_ml,
        needle_gauge=data.needle_gauge,
        needle_length_mm=data.needle_length_mm,
        prp_given=data.prp_given,
        prp_volume_ml=data.prp_volume_ml,
        pain_score=data.pain_score,
        hair_colour_last_date=data.hair_colour_last_date,
        confirmed_warnings=confirmed,
        notes=data.notes,
        status=VisitStatus.COMPLETED,
        created_by=actor.username,
        updated_by=actor.username,
    )
    session.add(visit)
    session.flush()
    for use in data.lots:
        volume = stock.ul(use.volume_ml)
        session.add(VisitLot(visit_id=visit.id, lot_id=use.lot_id, volume_ul=volume))
        stock.draw_for_visit(session, prep.lots[use.lot_id], volume, visit.id, actor.username)
    for event in data.adverse_events:
        session.add(AdverseEvent(visit_id=visit.id, **event.model_dump()))
    session.flush()
    if plan_session is not None:
        fulfilment.mark_fulfilled(
            session, actor, plan_session, visit.id, visit_day=prep.visit_date, zone=prep.zone
        )
    session.refresh(visit)
    audit.record(
        session,
        actor,
        "create",
        "visit",
        visit.id,
        patient_id=visit.patient_id,
        clinic_id=visit.clinic_id,
        detail={
            "confirmed_warnings": confirmed,
            "lots": {str(u.lot_id): u.volume_ml for u in data.lots},
        },
    )
    return visit


def _load_visit(
    session: Session, actor: Actor, visit_id: uuid.UUID, permission: Permission
) -> Visit:
    return patient_service.load_owned(session, actor, Visit, visit_id, permission, "Visit")


def get_visit(session: Session, actor: Actor, visit_id: uuid.UUID) -> Visit:
    """One visit the actor may see (patients: only their own), auditing the read."""
    visit = _load_visit(session, actor, visit_id, Permission.VISIT_READ)
    audit.record(
        session,
        actor,
        "read",
        "visit",
        visit.id,
        patient_id=visit.patient_id,
        clinic_id=visit.clinic_id,
    )
    return visit


def list_for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> Sequence[Visit]:
    """A patient's visits, newest first, auditing the read."""
    return _newest_first(session, actor, patient_id, Visit, "visit", audit_none=True)


Listed = TypeVar("Listed", Visit, ExternalVisit)


def _newest_first(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    model: type[Listed],
    entity: str,
    *,
    audit_none: bool,
) -> Sequence[Listed]:
    """A patient's rows of a visit kind, newest first; the read audited (also when there are
    none, if `audit_none`)."""
    patient = patient_service.load(session, actor, patient_id, Permission.VISIT_READ)
    rows = (
        session.execute(
            select(model).where(model.patient_id == patient.id).order_by(model.performed_at.desc())
        )
        .scalars()
        .all()
    )
    if rows or audit_none:
        audit.record(
            session,
            actor,
            "read",
            entity,
            None,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            detail={"count": len(rows)},
        )
    return rows


def void(session: Session, actor: Actor, visit_id: uuid.UUID, reason: str) -> Visit:
    """Mark a visit entered-in-error; stock is not put back (correct it with an adjustment)."""
    visit = _load_visit(session, actor, visit_id, Permission.VISIT_WRITE)
    if visit.status != VisitStatus.COMPLETED:
        raise InvalidTransition("This visit is already marked entered in error")
    visit.status = VisitStatus.ENTERED_IN_ERROR
    visit.void_reason = reason
    visit.updated_by = actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "void",
        "visit",
        visit.id,
        patient_id=visit.patient_id,
        clinic_id=visit.clinic_id,
        detail={"reason": reason},
    )
    return visit


def _external_fields(data: ExternalVisitCreate) -> dict[str, object]:
    fields = data.model_dump(mode="json")
    fields["performed_at"] = data.performed_at
    return fields


def record_external(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    data: ExternalVisitCreate,
    *,
    source: str,
    existing_id: uuid.UUID | None = None,
) -> tuple[ExternalVisit, str]:
    """Store (or bring up to date) a session given elsewhere: no stock is drawn and no safety
    check runs (it was not given here), but the visit's own rules on the record hold: the
    patient must be active and in scope, the time not in the future nor before their birth.
    Answers the row and created | updated | unchanged."""
    actor.require(Permission.VISIT_WRITE)
    patient = _patient_for_session(session, actor, patient_id, data.performed_at)
    fields = _external_fields(data)
    row = session.get(ExternalVisit, existing_id) if existing_id is not None else None
    if row is not None and row.patient_id != patient.id:
        raise InvalidInput("This visit was imported for another patient", "subject")
    if row is not None:
        changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
        if row.status != VisitStatus.COMPLETED:
            changed["status"] = VisitStatus.COMPLETED
        if not changed:
            return row, "unchanged"
        for key, value in changed.items():
            setattr(row, key, value)
        row.updated_by = actor.username
        outcome = "updated"
        detail: dict[str, object] = {"source": source, "changed": sorted(changed)}
    else:
        row = ExternalVisit(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            source=source,
            status=VisitStatus.COMPLETED,
            created_by=actor.username,
            updated_by=actor.username,
            **fields,
        )
        session.add(row)
        outcome = "created"
        detail = {"source": source, "administrations": len(data.administrations)}
    session.flush()
    audit.record(
        session,
        actor,
        "create" if outcome == "created" else "update",
        "external_visit",
        row.id,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail=detail,
    )
    return row, outcome


def list_external_for_patient(
    session: Session, actor: Actor, patient_id: uuid.UUID
) -> Sequence[ExternalVisit]:
    """A patient's sessions recorded elsewhere (imported), newest first, auditing the read."""
    return _newest_first(
        session, actor, patient_id, ExternalVisit, "external_visit", audit_none=False
    )
