"""The guided path through the demo clinic shown on the dashboard of `serve --demo`.

Each step links to a real record of the signed-in user's clinic that shows one feature; a step
whose record does not exist (a clinic's own data) is left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mesoclinic.analytics.area import AnalyticsPermission
from mesoclinic.analytics.models import GROUP_SCOPE, SavedCohort
from mesoclinic.assessment.models import Assessment
from mesoclinic.db import RecordStatus
from mesoclinic.formulary.models import Lot
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.models import Measurement
from mesoclinic.outcomes.responder_review import judge_clinic
from mesoclinic.outcomes.responders import ResponderStatus, load_responder_rules
from mesoclinic.patients.models import Allergy, Patient, PregnancyStatus
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission, Role
from mesoclinic.visits.models import ExternalVisit, Visit, VisitStatus


@dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    href: str


def _first_patient(session: Session, actor: Actor, stmt: Select[uuid.UUID]) -> uuid.UUID | None:
    stmt = stmt.join(Patient, Patient.id == stmt.selected_columns[0]).where(
        Patient.status == RecordStatus.ACTIVE
    )
    if not actor.is_group_admin:
        stmt = stmt.where(Patient.clinic_id == actor.clinic_id)
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def _staff_steps(session: Session, actor: Actor) -> list[TourStep]:
    steps: list[TourStep] = [
        TourStep(
            "Find a patient",
            "Search by name, record number or phone; every search is audited.",
            "/patients",
        )
    ]

    def patient_step(pid: uuid.UUID | None, title: str, text: str, tab: str) -> None:
        if pid:
            steps.append(TourStep(title, text, f"/patients/{pid}/{tab}"))

    def first_assessed(candidacy: str) -> uuid.UUID | None:
        return _first_patient(
            session,
            actor,
            select(Assessment.patient_id).where(
                Assessment.candidacy == candidacy, Assessment.status == RecordStatus.ACTIVE
            ),
        )

    recommended = (
        first_assessed("recommended")
        if actor.can(Permission.ASSESSMENT_READ) or actor.can(Permission.PLAN_READ)
        else None
    )
    if actor.can(Permission.ASSESSMENT_READ):
        patient_step(
            recommended,
            "A good candidate",
            "The decision panel names every rule that fired, its reason and its source.",
            "assessments",
        )
        patient_step(
            first_assessed("not_recommended"),
            "Probably not fruitful",
            "Advanced pattern loss is not recommended; a clinician may override with "
            "a written reason.",
            "assessments",
        )
        patient_step(
            _first_patient(
                session,
                actor,
                select(PregnancyStatus.patient_id).where(
                    PregnancyStatus.value == "pregnant",
                    PregnancyStatus.status == RecordStatus.ACTIVE,
                ),
            ),
            "Must not be treated",
            "Pregnancy is an absolute contraindication: the treatment gate stays closed.",
            "assessments",
        )
    if actor.can(Permission.PLAN_READ):
        patient_step(
            recommended,
            "The session series",
            "Dated sessions with their allowed "
            "windows; book one or move it and later sessions follow.",
            "plan",
        )
    if actor.can(Permission.VISIT_WRITE):
        patient_step(
            _first_patient(
                session,
                actor,
                select(Allergy.patient_id).where(
                    Allergy.substance == "biotin", Allergy.status == RecordStatus.ACTIVE
                ),
            ),
            "Safety checks at the chair",
            "Record a visit with a biotin cocktail for this patient: the allergy check refuses "
            "it (a standard vitamin plan already warns when it is created).",
            "visits",
        )
    if actor.can(Permission.VISIT_READ):
        patient_step(
            _first_patient(
                session,
                actor,
                select(ExternalVisit.patient_id).where(
                    ExternalVisit.status == VisitStatus.COMPLETED
                ),
            ),
            "A referral received as FHIR",
            "A dermatologist's record imported as a FHIR Bundle: history, a measured density "
            "and two sessions given there, shown as recorded elsewhere (no stock drawn here).",
            "visits",
        )
    if actor.can(Permission.AFTERCARE_READ):
        patient_step(
            _first_patient(
                session,
                actor,
                select(Visit.patient_id)
                .where(Visit.status == VisitStatus.COMPLETED)
                .order_by(Visit.performed_at.desc()),
            ),
            "Aftercare",
            "Precaution windows, the instruction sheet (PDF) and the calendar "
            "file the patient receives.",
            "aftercare",
        )
    if actor.can(Permission.OUTCOME_READ):
        patient_step(
            _first_patient(session, actor, select(Measurement.patient_id)),
            "See a patient's measured results",
            "Densities at marked scalp sites, shedding counts and blinded photo assessments "
            "over months, each with its unit and where it came from.",
            "outcomes",
        )
        if actor.clinic_id is not None:
            judged = judge_clinic(
                session, actor, actor.clinic_id, load_kinds(), load_responder_rules()
            )
            first = {r.status: r.patient_id for r in reversed(judged)}
            patient_step(
                first.get(ResponderStatus.RESPONDER),
                "See whether the treatment works",
                "The Progress tab: the responder rule's verdict with its reason, charts against "
                "the baseline, before/after pictures and the patient's report (PDF).",
                "progress",
            )
            patient_step(
                first.get(ResponderStatus.NON_RESPONDER),
                "When it does not",
                "No measured response after enough sessions: the dashboard asks to review "
                "the plan (pause it, change it, or continue with a written reason).",
                "progress",
            )
    if actor.can(AnalyticsPermission.VIEW):
        steps.append(_analytics_step(session, actor))
    if actor.can(Permission.APPOINTMENT_READ):
        steps.append(
            TourStep(
                "Reception's calendar",
                "Practitioners side by side; a double booking is refused.",
                "/calendar",
            )
        )
    if actor.can(Permission.STOCK_WRITE):
        recalled_lots = select(Lot.id).where(Lot.recalled_at.is_not(None))
        if not actor.is_group_admin:  # another clinic's lot is not this user's to open
            recalled_lots = recalled_lots.where(Lot.clinic_id == actor.clinic_id)
        recalled = session.execute(recalled_lots.limit(1)).scalar_one_or_none()
        if recalled:
            steps.append(
                TourStep(
                    "A recalled lot",
                    "Every patient and visit that received it, as a page and as CSV.",
                    f"/stock/lots/{recalled}/recipients",
                )
            )
    if actor.can(Permission.AUDIT_READ):
        steps.append(
            TourStep(
                "The audit trail",
                "Every read and write of patient data; "
                "`mesoclinic audit verify` checks the hash chain.",
                "/admin/audit",
            )
        )
    return steps


def _analytics_step(session: Session, actor: Actor) -> TourStep:
    """The clinic's two saved cohorts compared, or the analytics page itself."""
    scope = GROUP_SCOPE if actor.is_group_admin else str(actor.clinic_id)
    names = (
        session.execute(
            select(SavedCohort.name)
            .where(SavedCohort.scope == scope)
            .order_by(SavedCohort.created_at, SavedCohort.name)
            .limit(2)
        )
        .scalars()
        .all()
    )
    query = {"compare_a": names[0], "compare_b": names[1]} if len(names) == 2 else {}
    return TourStep(
        "What works, for whom, and is anything unsafe",
        "Cohort analytics: outcome at 3, 6 and 12 months, two cohorts compared with the "
        "caveat of observational data, and a product lot whose adverse events stand out.",
        f"/analytics?{urlencode(query)}" if query else "/analytics",
    )


def tour_steps(session: Session, actor: Actor) -> list[TourStep]:
    """The guided path for this user's role."""
    if actor.role is Role.PATIENT:
        return [
            TourStep(
                "Your record",
                "Your plan, next sessions and current precautions.",
                f"/patients/{actor.patient_id}/aftercare",
            )
        ]
    steps = _staff_steps(session, actor)
    audit.record(session, actor, "search", "patient", None, detail={"purpose": "guided tour"})
    return steps
