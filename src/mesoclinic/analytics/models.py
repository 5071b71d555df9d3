"""Saved cohort definitions, each patient's derived analytics rows, and the indexes the cohort
queries read other areas' tables by."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from mesoclinic.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from mesoclinic.outcomes.models import Measurement

GROUP_SCOPE = "group"  # the scope of a cohort saved by a group admin across clinics


class SavedCohort(UUIDPrimaryKey, Base):
    """A named, reusable cohort filter; names are unique within a clinic (or the group)."""

    __tablename__ = "analytics_cohorts"
    __table_args__ = (UniqueConstraint("scope", "name", name="uq_analytics_cohorts_scope_name"),)

    # The clinic whose staff see it, or None for the group admins' cohorts across clinics.
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    scope: Mapped[str] = mapped_column(String(40))  # the clinic id as text, or GROUP_SCOPE
    name: Mapped[str] = mapped_column(String(80))
    filter: Mapped[dict[str, Any]] = mapped_column(JSON)  # a CohortFilter, validated on load
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))


# Derived rows (docs/analytics.md, "Derived rows"): facts computed from the clinical tables when
# they are written (`analytics.rows`), so a cohort read filters and aggregates about one row per
# patient instead of deriving them from every session and measurement. No foreign keys: they
# are rebuilt from scratch at will, and a patient's rows are replaced after each flush.

# One row per treated patient (an active record with a completed session).
ANALYTICS_PATIENTS = Table(
    "analytics_patients",
    Base.metadata,
    Column("patient_id", Uuid, primary_key=True),
    Column("clinic_id", Uuid, nullable=False),
    Column("t0", UTCDateTime, nullable=False),  # the first completed session
    Column("sex", String(10), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("diagnosis", String(32)),  # of the latest active assessment
    Column("scale", String(20)),
    Column("grade", String(12)),
    Column("cocktail_id", Uuid, nullable=False),  # of the first session
    Column("protocol", String(60)),  # of the latest plan
    Column("dropped", Integer, nullable=False),  # 1: a plan was stopped
    Column("prp", Boolean, nullable=False),  # PRP at any completed session
    Index("ix_analytics_patients_clinic_t0", "clinic_id", "t0"),
)

# Per patient, measurement kind and time point with a value in its window: the nearest value's
# change from baseline averaged over sites (NULL without a baseline at the same site), and the
# largest and smallest per-site percent change (sites with a positive baseline), from which any
# responder rule's "met at any site" follows at read time.
ANALYTICS_OUTCOMES = Table(
    "analytics_outcomes",
    Base.metadata,
    Column("patient_id", Uuid, primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("tp", String(12), primary_key=True),
    Column("baseline", Float),
    Column("value", Float),
    Column("change", Float),
    Column("pct_max", Float),
    Column("pct_min", Float),
    Index("ix_analytics_outcomes_kind_tp", "kind", "tp"),
)

# Per patient and exposure: each lot, product, technique, clinician and cocktail the patient's
# completed sessions used, with the sessions and those with an adverse event (any type but
# "none"). The lots report sums these (patients = rows) instead of counting distinct sessions
# over every session of the group. One typed column per dimension holds the key.
ANALYTICS_EXPOSURES = Table(
    "analytics_exposures",
    Base.metadata,
    Column("patient_id", Uuid, nullable=False),
    Column("dimension", String(12), nullable=False),  # lot, product, technique, clinician, cocktail
    Column("lot_id", Uuid),
    Column("product_id", Uuid),
    Column("technique", String(40)),
    Column("practitioner_id", Uuid),
    Column("cocktail_id", Uuid),
    Column("sessions", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    Index("ix_analytics_exposures_dimension_patient", "dimension", "patient_id"),
    Index("ix_analytics_exposures_patient", "patient_id"),
)

# Which definition the derived rows were built with (the time points' windows and the rows'
# version): the reads use them only when this matches the running code's.
ANALYTICS_STATE = Table(
    "analytics_state",
    Base.metadata,
    Column("name", String(40), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("built_at", UTCDateTime, nullable=False),
)


# The cohort queries read one measurement kind across every patient of a clinic; this index
# serves that read (each patient's first session uses the visits' own (patient, performed_at)
# index, see docs/analytics.md).
Index(
    "ix_measurements_kind_patient",
    Measurement.kind,
    Measurement.patient_id,
    Measurement.measured_at,
)
