"""A visit: one treatment session given to a patient, the lots it drew and its adverse events."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mesoclinic.db import Base, UUIDPrimaryKey, status_type, utcnow
from mesoclinic.formulary.models import Cocktail, Lot

TECHNIQUES = ("nappage", "point_by_point", "mesogun", "microneedling")
ZONES = ("frontal", "mid_scalp", "vertex", "left_temporal", "right_temporal", "occipital")
ADVERSE_EVENT_TYPES = (
    "none",
    "pain",
    "headache",
    "bruising",
    "swelling",
    "redness",
    "itching",
    "allergic_reaction",
    "infection",
    "patchy_alopecia",
    "scarring",
)


class VisitStatus(StrEnum):
    """FHIR Procedure status codes a recorded visit can have."""

    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"


class Visit(UUIDPrimaryKey, Base):
    """A completed treatment session; corrected by marking it entered-in-error, never deleted."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_patient_performed", "patient_id", "performed_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    performed_at: Mapped[datetime]
    # Plans are built in parallel: the link is validated by the service, not a foreign key.
    plan_session_id: Mapped[uuid.UUID | None]
    cocktail_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cocktails.id"))
    technique: Mapped[str] = mapped_column(String(20))
    zones: Mapped[list[str]] = mapped_column(JSON, server_default="[]")  # of ZONES
    depth_mm: Mapped[float] = mapped_column(Float)
    points: Mapped[int] = mapped_column(Integer)
    volume_per_point_ml: Mapped[float] = mapped_column(Float)
    total_volume_ml: Mapped[float] = mapped_column(Float)
    needle_gauge: Mapped[int] = mapped_column(Integer)
    needle_length_mm: Mapped[float] = mapped_column(Float)
    prp_given: Mapped[bool] = mapped_column(Boolean, default=False)
    prp_volume_ml: Mapped[float | None] = mapped_column(Float)
    pain_score: Mapped[int | None] = mapped_column(Integer)
    hair_colour_last_date: Mapped[date | None]
    confirmed_warnings: Mapped[list[str]] = mapped_column(  # rule ids
        JSON, default=list, server_default="[]"
    )
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[VisitStatus] = mapped_column(
        status_type(VisitStatus, 20), default=VisitStatus.COMPLETED
    )
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")

    cocktail: Mapped[Cocktail] = relationship(lazy="joined")
    lots_used: Mapped[list[VisitLot]] = relationship(back_populates="visit", lazy="selectin")
    adverse_events: Mapped[list[AdverseEvent]] = relationship(
        back_populates="visit", lazy="selectin"
    )


class VisitLot(UUIDPrimaryKey, Base):
    __tablename__ = "visit_lots"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"), index=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    volume_ul: Mapped[int] = mapped_column(Integer)

    visit: Mapped[Visit] = relationship(back_populates="lots_used")
    lot: Mapped[Lot] = relationship(lazy="joined")

    @property
    def volume_ml(self) -> float:
        return self.volume_ul / 1000


class AdverseEvent(UUIDPrimaryKey, Base):
    """What happened during or after a visit ("none" is recorded explicitly)."""

    __tablename__ = "adverse_events"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"), index=True)
    type: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str | None] = mapped_column(String(10))  # mild | moderate | severe
    onset: Mapped[str | None] = mapped_column(String(20))  # during | same_day | later
    outcome: Mapped[str | None] = mapped_column(String(20))  # resolved | ongoing | sequelae
    note: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[Visit] = relationship(back_populates="adverse_events")


class ExternalVisit(UUIDPrimaryKey, Base):
    """A treatment session recorded elsewhere (a referral's FHIR Procedure and its
    MedicationAdministrations), kept apart from this clinic's own visits: it drew no stock of
    this clinic, was not checked here, and names its product, lots and performer as text.

    It counts for the patient's visit history and for the minimum interval between sessions;
    analytics, stock, plan fulfilment and the dose checks read `Visit` only (docs/decisions.md).
    """

    __tablename__ = "external_visits"
    __table_args__ = (Index("ix_external_visits_patient_performed", "patient_id", "performed_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    performed_at: Mapped[datetime]
    procedure: Mapped[str] = mapped_column(String(200))  # the sender's code text
    technique: Mapped[str | None] = mapped_column(String(20))  # of TECHNIQUES, when coded
    zones: Mapped[list[str]] = mapped_column(JSON, server_default="[]")  # of ZONES
    performer: Mapped[str | None] = mapped_column(String(200))  # the sender's display text
    outcome: Mapped[str | None] = mapped_column(Text)
    complications: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    # One per MedicationAdministration: {"product", "lot_number", "expires_on", "dose"} as text.
    administrations: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, server_default="[]")
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="fhir-import")
    status: Mapped[VisitStatus] = mapped_column(
        status_type(VisitStatus, 20), default=VisitStatus.COMPLETED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
