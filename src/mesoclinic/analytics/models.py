"""Saved cohort definitions, and the indexes the cohort queries read other areas' tables by."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mesoclinic.db import Base, UUIDPrimaryKey, utcnow
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


# The cohort queries read one measurement kind across every patient of a clinic; this index
# serves that read (each patient's first session uses the visits' own (patient, performed_at)
# index, see docs/analytics.md).
Index(
    "ix_measurements_kind_patient",
    Measurement.kind,
    Measurement.patient_id,
    Measurement.measured_at,
)
