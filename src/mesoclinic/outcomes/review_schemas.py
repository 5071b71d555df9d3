"""API shapes of analysis results, reviews and the requests that queue analysis jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from mesoclinic.schemas_common import ReadSchema, Schema

HairLine = list[float]  # [exit_x, exit_y, shaft_x, shaft_y] in source pixels


class ReviewCreate(Schema):
    analysis_id: uuid.UUID | None = None  # default: the image's latest count
    added: list[HairLine] = Field(default_factory=list, max_length=2000)
    removed: list[int] = Field(default_factory=list, max_length=5000)


class ReanalyseRequest(Schema):
    algorithm_version: str = Field(min_length=1, max_length=120)


class SecondImage(Schema):
    second_image_id: uuid.UUID


class JobRead(ReadSchema):
    id: uuid.UUID
    kind: str
    image_id: uuid.UUID
    second_image_id: uuid.UUID | None
    algorithm_version: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ReviewRead(ReadSchema):
    id: uuid.UUID
    analysis_id: uuid.UUID
    reviewed_by: str
    reviewed_at: datetime
    added: list[HairLine]
    removed: list[int]
    automatic_count: int
    corrected_count: int
    measurement_id: uuid.UUID | None


class AnalysisRead(ReadSchema):
    id: uuid.UUID
    job_id: uuid.UUID
    image_id: uuid.UUID
    second_image_id: uuid.UUID | None
    kind: str
    algorithm_version: str
    created_at: datetime
    result: dict[str, Any]
    review: ReviewRead | None = None


class ImageAnalysisStatus(Schema):
    """An image's latest count (with its review) and the state of every job on it."""

    image_id: uuid.UUID
    status: str  # of the latest COUNT job: queued, running, done, failed, or none
    analysis: AnalysisRead | None
    analyses: list[AnalysisRead] | None = None  # every version, with ?all=1
    jobs: list[JobRead]
