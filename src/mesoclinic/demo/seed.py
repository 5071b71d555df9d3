"""The demo clinic: staff, ~30 synthetic patients with histories and consents, and every
area's demo data, created only when the database is empty."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mesoclinic import areas
from mesoclinic.config import Settings
from mesoclinic.db import unit_of_work
from mesoclinic.demo.people import demo_people
from mesoclinic.patients import consent as consent_service
from mesoclinic.patients import history as history_service
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.patients.schemas import (
    AllergyCreate,
    ConditionCreate,
    ConsentCreate,
    MedicationCreate,
    PatientCreate,
    PregnancyStatusCreate,
)
from mesoclinic.security import service as security_service
from mesoclinic.security.actor import Actor, cli_actor
from mesoclinic.security.models import Clinic, User

DEMO_PASSWORD = "mesoclinic-demo"
MAIN_CLINIC = "Harley Street Hair Clinic"
SECOND_CLINIC = "Clinica Capilar Madrid"
STAFF = [  # username, role, clinic, display name
    ("admin", "admin", None, "Group Administrator"),
    ("dr.moreau", "clinician", MAIN_CLINIC, "Dr Claire Moreau"),
    ("nurse.evans", "nurse", MAIN_CLINIC, "Nurse Tom Evans"),
    ("reception.khan", "reception", MAIN_CLINIC, "Aisha Khan"),
    ("dr.garcia", "clinician", SECOND_CLINIC, "Dra. Lucia Garcia"),
    ("manager.harley", "clinic_admin", MAIN_CLINIC, "Priya Shah"),
    ("manager.madrid", "clinic_admin", SECOND_CLINIC, "Javier Ortega"),
]
PATIENT_USERNAME = "patient.demo"


@dataclass
class DemoContext:
    """What the base demo created, handed to each area's demo step."""

    clinics: dict[str, Clinic]
    staff: dict[str, User]
    patients: list[tuple[Patient, str]]  # (record, storyline)
    now: datetime
    settings: Settings
    extra: dict[str, Any] = field(default_factory=dict)

    def actor(self, username: str) -> Actor:
        return security_service.actor_for(self.staff[username], "demo")


def is_empty(session: Session) -> bool:
    return session.execute(select(User.id).limit(1)).first() is None  # stops at the first row


def ensure_demo(factory: sessionmaker[Session], settings: Settings) -> bool:
    """Create the demo clinic if the database has no users; True when it was created."""
    with unit_of_work(factory) as session:
        if not is_empty(session):
            return False
        create_demo(session, settings)
    return True


def create_demo(session: Session, settings: Settings) -> DemoContext:
    setup = cli_actor("demo")
    clinics = {
        MAIN_CLINIC: security_service.create_clinic(
            session, setup, name=MAIN_CLINIC, timezone="Europe/London"
        ),
        SECOND_CLINIC: security_service.create_clinic(
            session, setup, name=SECOND_CLINIC, timezone="Europe/Madrid"
        ),
    }
    staff = {
        u: security_service.create_user(
            session,
            setup,
            username=u,
            role=r,
            password=DEMO_PASSWORD,
            clinic_name=c,
            display_name=n,
        )
        for u, r, c, n in STAFF
    }
    now = datetime.now(UTC).replace(microsecond=0)
    patients = []
    for i, person in enumerate(demo_people()):
        clinic = clinics[MAIN_CLINIC if person.country == "GB" else SECOND_CLINIC]
        author = staff["dr.moreau" if clinic.name == MAIN_CLINIC else "dr.garcia"]
        actor = security_service.actor_for(author, "demo")
        patient = patient_service.create(
            session,
            actor,
            PatientCreate(
                given_name=person.given_name,
                family_name=person.family_name,
                sex=person.sex,
                birth_date=person.birth_date,
                phone=person.phone,
                email=person.email,
                city=person.city,
                country=person.country,
                postal_code=person.postal_code,
                email_opt_out=(i % 9 == 8),
            ),
        )
        _history(session, actor, patient, person.profile, person.sex)
        if person.profile != "advanced_aga" or i % 2:
            consent_service.sign(
                session,
                actor,
                patient.id,
                ConsentCreate(
                    procedure="mesotherapy",
                    signed_by=patient.full_name,
                    signed_at=now - timedelta(days=120 - i),
                ),
            )
        if i % 4 == 1:
            consent_service.sign(
                session,
                actor,
                patient.id,
                ConsentCreate(
                    procedure="prp",
                    signed_by=patient.full_name,
                    signed_at=now - timedelta(days=110 - i),
                ),
            )
        patients.append((patient, person.profile))
    first = next(
        p
        for p, profile in patients
        if p.clinic_id == clinics[MAIN_CLINIC].id and profile == "early_aga"
    )
    staff[PATIENT_USERNAME] = security_service.create_user(
        session,
        setup,
        username=PATIENT_USERNAME,
        role="patient",
        password=DEMO_PASSWORD,
        clinic_name=MAIN_CLINIC,
        display_name=first.full_name,
        patient_id=first.id,
    )
    context = DemoContext(clinics, staff, patients, now, settings)
    for step in areas.demo_steps():
        step(session, context)
    return context


def _history(session: Session, actor: Actor, patient: Patient, profile: str, sex: str) -> None:
    add = history_service.add
    if sex == "female":
        status = "pregnant" if profile == "pregnant" else "not_pregnant"
        add(session, actor, patient.id, "pregnancy-statuses", PregnancyStatusCreate(value=status))
    if profile == "biotin_allergy":
        add(
            session,
            actor,
            patient.id,
            "allergies",
            AllergyCreate(substance="biotin", reaction="urticaria", severity="moderate"),
        )
    elif profile in ("moderate_aga", "fphl"):
        add(
            session,
            actor,
            patient.id,
            "allergies",
            AllergyCreate(substance="penicillin", reaction="rash", severity="mild"),
        )
    if profile == "anticoagulant":
        add(
            session,
            actor,
            patient.id,
            "medications",
            MedicationCreate(name="Apixaban", dose="5 mg twice daily", category="anticoagulant"),
        )
        add(
            session,
            actor,
            patient.id,
            "conditions",
            ConditionCreate(name="Atrial fibrillation", kind="other"),
        )
    if profile == "telogen_effluvium":
        add(
            session,
            actor,
            patient.id,
            "conditions",
            ConditionCreate(name="Iron deficiency", kind="iron_deficiency"),
        )
        add(
            session,
            actor,
            patient.id,
            "medications",
            MedicationCreate(name="Ferrous sulfate", dose="200 mg daily", category="other"),
        )
    if profile == "moderate_aga":
        add(
            session,
            actor,
            patient.id,
            "medications",
            MedicationCreate(name="Finasteride", dose="1 mg daily", category="antiandrogen"),
        )


def print_welcome(console: Console, url: str, created: bool) -> None:
    """Print the URL and the demo logins."""
    console.print(f"\n[bold]mesoclinic[/bold] is starting on [link={url}]{url}[/link]")
    console.print("demo clinic created" if created else "using the existing database")
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    table.add_column("username")
    table.add_column("role")
    table.add_column("clinic")
    for username, role, clinic, _name in STAFF:
        table.add_row(username, role, clinic or "all clinics")
    table.add_row(PATIENT_USERNAME, "patient", MAIN_CLINIC)
    console.print(table)
