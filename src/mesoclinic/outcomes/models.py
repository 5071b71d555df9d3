"""Measured results: marked scalp sites, measurements with provenance, clinical images, their
analysis jobs and results, and the clinician's review of an analysis."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mesoclinic.db import Base, RecordStatus, UUIDPrimaryKey, status_type, utcnow
from mesoclinic.patients.models import AuditColumns


class SiteLocation(StrEnum):
    VERTEX = "vertex"
    CROWN = "crown"
    MID_SCALP = "mid-scalp"
    FRONTAL_HAIRLINE = "frontal-hairline"
    LEFT_TEMPORAL = "left-temporal"
    RIGHT_TEMPORAL = "right-temporal"
    OCCIPITAL = "occipital"
    OTHER = "other"  # named in free text


class MeasurementSite(UUIDPrimaryKey, AuditColumns, Base):
    """A marked spot on one patient's scalp that follow-ups measure again, like with like."""

    __tablename__ = "measurement_sites"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    location: Mapped[SiteLocation] = mapped_column(status_type(SiteLocation, 24))
    label: Mapped[str] = mapped_column(String(80))  # e.g. "Vertex" or the free-text name
    description: Mapped[str] = mapped_column(Text, default="")  # how to find the same spot again
    clipped: Mapped[bool] = mapped_column(default=False)  # clipped patch for phototrichograms
    status: Mapped[RecordStatus] = mapped_column(
        status_type(RecordStatus, 20), default=RecordStatus.ACTIVE
    )
    void_reason: Mapped[str | None] = mapped_column(Text)


class MeasurementSource(StrEnum):
    MANUAL = "manual"  # entered by a person (recorded_by)
    DEVICE = "device"  # read off a named device
    IMAGE_ANALYSIS = "image-analysis"  # computed from a stored image by an algorithm version


class MeasurementStatus(StrEnum):
    """FHIR Observation codes: a correction is a new row with status `corrected`."""

    FINAL = "final"
    CORRECTED = "corrected"
    ENTERED_IN_ERROR = "entered-in-error"


class Measurement(UUIDPrimaryKey, Base):
    """One measured value with its unit (UCUM) and where it came from."""

    __tablename__ = "measurements"
    __table_args__ = (
        Index("ix_measurements_patient_kind", "patient_id", "kind", "measured_at"),
        # The clinicians' review list reads the newest measurements first.
        Index("ix_measurements_measured_at", "measured_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("measurement_sites.id"), index=True
    )
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"))
    kind: Mapped[str] = mapped_column(String(40))  # a code of the measurement-kinds rulebook
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))  # UCUM
    measured_at: Mapped[datetime]
    source: Mapped[MeasurementSource] = mapped_column(status_type(MeasurementSource, 20))
    recorded_by: Mapped[str] = mapped_column(String(80))  # username of who entered or ran it
    device_name: Mapped[str | None] = mapped_column(String(120))
    algorithm_version: Mapped[str | None] = mapped_column(String(120))
    image_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinical_images.id"))
    analysis_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("image_analyses.id"))
    rater: Mapped[str | None] = mapped_column(String(120))  # global photographic assessment
    blinded: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MeasurementStatus] = mapped_column(
        status_type(MeasurementStatus, 20), default=MeasurementStatus.FINAL
    )
    # A correction is a new row pointing at the one it corrects; that one is then superseded.
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("measurements.id"))
    superseded_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[MeasurementSite | None] = relationship(lazy="joined")


class ImageKind(StrEnum):
    TRICHOSCOPY = "trichoscopy"
    PHOTO = "photo"  # a standard clinical photograph of one view


class PhotoView(StrEnum):
    VERTEX = "vertex"
    MIDLINE_PART = "midline-part"
    FRONTAL = "frontal"
    LEFT_TEMPORAL = "left-temporal"
    RIGHT_TEMPORAL = "right-temporal"
    OCCIPITAL = "occipital"


class ImageBlob(Base):
    """The stored bytes of an image, addressed by their SHA-256: the same file is stored once."""

    __tablename__ = "image_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)  # of the stored bytes
    upload_sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the bytes received
    media_type: Mapped[str] = mapped_column(String(32))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClinicalImage(UUIDPrimaryKey, AuditColumns, Base):
    """A trichoscopy image or clinical photo of a patient, optionally of a visit and a site."""

    __tablename__ = "clinical_images"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"), index=True)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"))
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("measurement_sites.id"), index=True
    )
    kind: Mapped[ImageKind] = mapped_column(status_type(ImageKind, 20))
    view: Mapped[PhotoView | None] = mapped_column(status_type(PhotoView, 20))
    taken_at: Mapped[datetime]
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("image_blobs.sha256"))
    original_filename: Mapped[str] = mapped_column(String(200), default="")
    device_profile: Mapped[str | None] = mapped_column(String(40))  # imaging profile, e.g. fdu-70x
    is_site_reference: Mapped[bool] = mapped_column(default=False)  # the site's reference photo
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RecordStatus] = mapped_column(
        status_type(RecordStatus, 20), default=RecordStatus.ACTIVE
    )
    void_reason: Mapped[str | None] = mapped_column(Text)

    blob: Mapped[ImageBlob] = relationship(lazy="joined")
    site: Mapped[MeasurementSite | None] = relationship(lazy="joined")


class PhotoConsent(UUIDPrimaryKey, Base):
    """What the patient allows their photos to be used for; withdrawn, never deleted."""

    __tablename__ = "photo_consents"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    clinical_record: Mapped[bool] = mapped_column(default=True)
    teaching: Mapped[bool] = mapped_column(default=False)
    marketing: Mapped[bool] = mapped_column(default=False)
    signed_at: Mapped[datetime]
    signed_by: Mapped[str] = mapped_column(String(120))
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class AnalysisKind(StrEnum):
    COUNT = "count"  # one trichoscopy image: hairs, densities, diameters, units, quality
    GROWTH = "growth"  # phototrichogram pair 1-5 days apart: anagen / telogen
    FOLLOW_UP = "follow-up"  # baseline and follow-up of one site: hairs kept, lost, new


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AnalysisJob(UUIDPrimaryKey, Base):
    """A durable, leased unit of analysis work; one per image (pair), kind and version."""

    __tablename__ = "analysis_jobs"
    __table_args__ = (Index("ix_analysis_jobs_claim", "status", "lease_until"),)

    # "kind:image:second-image-or-dash:version", unique: one job (and so one result) per piece
    # of work, whichever process asks for it (a NULL second image would defeat a composite key).
    work_key: Mapped[str] = mapped_column(String(240), unique=True)

    image_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinical_images.id"), index=True)
    second_image_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinical_images.id"))
    kind: Mapped[AnalysisKind] = mapped_column(status_type(AnalysisKind, 20))
    algorithm_version: Mapped[str] = mapped_column(String(120))
    status: Mapped[JobStatus] = mapped_column(status_type(JobStatus, 20), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    leased_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImageAnalysis(UUIDPrimaryKey, Base):
    """The stored result of one job: every detected hair and the summary figures (JSON)."""

    __tablename__ = "image_analyses"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analysis_jobs.id"), unique=True)
    image_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinical_images.id"), index=True)
    second_image_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinical_images.id"))
    kind: Mapped[AnalysisKind] = mapped_column(status_type(AnalysisKind, 20))
    algorithm_version: Mapped[str] = mapped_column(String(120))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImageReview(UUIDPrimaryKey, Base):
    """A clinician's correction of an analysis: hairs added and removed, and the count it gives."""

    __tablename__ = "image_reviews"

    analysis_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("image_analyses.id"), index=True)
    reviewed_by: Mapped[str] = mapped_column(String(80))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # [[exit_x, exit_y, shaft_x, shaft_y], ...] in source pixels
    added: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    removed: Mapped[list[int]] = mapped_column(JSON, default=list)  # indices of detected hairs
    automatic_count: Mapped[int] = mapped_column(Integer)
    corrected_count: Mapped[int] = mapped_column(Integer)
    measurement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("measurements.id"))


class PlanReview(UUIDPrimaryKey, Base):
    """A clinician's decision to continue a plan unchanged after its measured values met the
    non-responder rule: the reason, and how far the measured evidence went. The dashboard asks
    again once a value newer than `evidence_until` is recorded (pausing, stopping or changing
    the plan are the plan's own transitions)."""

    __tablename__ = "plan_reviews"
    __table_args__ = (Index("ix_plan_reviews_patient_reviewed", "patient_id", "reviewed_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_plans.id"))
    decision: Mapped[str] = mapped_column(String(20))  # "continue"
    reason: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[str] = mapped_column(String(80))  # the non-responder rule that was met
    evidence_until: Mapped[datetime]  # newest measurement recorded when the review was made
    reviewed_by: Mapped[str] = mapped_column(String(80))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
