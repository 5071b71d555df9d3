"""API schemas for clinical images and photo consents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from mesoclinic.db import RecordStatus
from mesoclinic.outcomes.models import ImageKind, JobStatus, PhotoView
from mesoclinic.schemas_common import LongText, ReadSchema, Schema, ShortText, UtcDatetime

ExportPurpose = Literal["marketing", "teaching"]


class ImageCreate(Schema):
    """What is said about an uploaded file (the bytes travel beside it, multipart)."""

    kind: ImageKind
    view: PhotoView | None = None
    site_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    taken_at: UtcDatetime | None = None  # the upload time when not given
    device_profile: Annotated[str, Field(max_length=40)] | None = None
    note: LongText | None = None


class ImageVoid(Schema):
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class JobRead(ReadSchema):
    id: uuid.UUID
    kind: str
    status: JobStatus
    algorithm_version: str
    attempts: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ImageRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: ImageKind
    view: PhotoView | None
    site_id: uuid.UUID | None
    site_label: str | None = None
    visit_id: uuid.UUID | None
    taken_at: datetime
    original_filename: str
    device_profile: str | None
    media_type: str
    width: int
    height: int
    byte_size: int
    sha256: str
    status: RecordStatus
    void_reason: str | None
    note: str | None
    created_at: datetime
    created_by: str
    duplicate: bool = False  # this upload was already stored for the patient
    file_url: str
    thumbnail_url: str
    analysis: JobRead | None = None  # the newest analysis job of the image, if any
    jobs: list[JobRead] = Field(default_factory=list)


class PhotoConsentCreate(Schema):
    """A signed photo consent form; a new one replaces the patient's current one."""

    clinical_record: bool = True
    teaching: bool = False
    marketing: bool = False
    signed_at: UtcDatetime
    signed_by: ShortText


class PhotoConsentWithdraw(Schema):
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class PhotoConsentRead(ReadSchema):
    id: uuid.UUID
    patient_id: uuid.UUID
    clinical_record: bool
    teaching: bool
    marketing: bool
    signed_at: datetime
    signed_by: str
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    current: bool = False
