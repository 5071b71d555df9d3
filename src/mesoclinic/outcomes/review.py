"""A clinician's review of an analysis: hairs added and removed by hand, the corrected count
stored beside the automatic one (both kept), and the overlay with the review applied."""

from __future__ import annotations

import dataclasses
import io
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import utcnow
from mesoclinic.errors import InvalidInput, NotFound
from mesoclinic.outcomes import analysis as image_analysis
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ClinicalImage,
    ImageAnalysis,
    ImageReview,
    Measurement,
    MeasurementSource,
    MeasurementStatus,
)
from mesoclinic.outcomes.review_schemas import (
    AnalysisRead,
    ImageAnalysisStatus,
    JobRead,
    ReviewRead,
)
from mesoclinic.patients import service as patient_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

if TYPE_CHECKING:  # Pillow and NumPy load with the first overlay drawn, not with `serve`
    from PIL import Image

MAX_ADDED = 2000


def load_image(
    session: Session, actor: Actor, image_id: uuid.UUID, permission: Permission
) -> ClinicalImage:
    """The image if the actor may see (or write) its patient's record; 403/404 otherwise."""
    return patient_service.load_owned(session, actor, ClinicalImage, image_id, permission, "Image")


def analyses_of(session: Session, image_id: uuid.UUID) -> list[ImageAnalysis]:
    """COUNT results of an image, newest first (one per algorithm version and job)."""
    return list(
        session.execute(
            select(ImageAnalysis)
            .where(ImageAnalysis.image_id == image_id, ImageAnalysis.kind == AnalysisKind.COUNT)
            .order_by(ImageAnalysis.created_at.desc())
        ).scalars()
    )


def jobs_of(session: Session, image_id: uuid.UUID) -> list[AnalysisJob]:
    """Every job of an image (as first or second image), newest first."""
    return list(
        session.execute(
            select(AnalysisJob)
            .where((AnalysisJob.image_id == image_id) | (AnalysisJob.second_image_id == image_id))
            .order_by(AnalysisJob.created_at.desc())
        ).scalars()
    )


def latest_review(session: Session, analysis_id: uuid.UUID) -> ImageReview | None:
    return session.execute(
        select(ImageReview)
        .where(ImageReview.analysis_id == analysis_id)
        .order_by(ImageReview.reviewed_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _valid_added(added: list[list[float]], width: int, height: int) -> list[list[float]]:
    if len(added) > MAX_ADDED:
        raise InvalidInput(f"at most {MAX_ADDED} added hairs", field="added")
    seen: set[tuple[float, ...]] = set()
    cleaned = []
    for n, hair in enumerate(added, start=1):
        if len(hair) != 4:
            raise InvalidInput(
                f"added hair {n} needs four numbers: exit x, exit y, shaft x, shaft y",
                field="added",
            )
        point = tuple(round(float(v), 1) for v in hair)
        if any(v != v for v in point):
            raise InvalidInput(f"added hair {n} has a coordinate that is not a number", "added")
        xs, ys = (point[0], point[2]), (point[1], point[3])
        if not all(0 <= x < width for x in xs) or not all(0 <= y < height for y in ys):
            raise InvalidInput(
                f"added hair {n} lies outside the image ({width} x {height} pixels)",
                field="added",
            )
        if point[:2] in {p[:2] for p in seen}:
            raise InvalidInput(f"added hair {n} repeats an exit point already added", "added")
        seen.add(point)
        cleaned.append(list(point))
    return cleaned


def _valid_removed(removed: list[int], hair_count: int) -> list[int]:
    if len(set(removed)) != len(removed):
        raise InvalidInput("a detected hair is listed twice for removal", field="removed")
    for index in removed:
        if not 0 <= index < hair_count:
            raise InvalidInput(
                f"there is no detected hair {index} (this analysis has {hair_count})",
                field="removed",
            )
    return sorted(removed)


def record_review(
    session: Session,
    actor: Actor,
    analysis_id: uuid.UUID,
    added: list[list[float]],
    removed: list[int],
) -> ImageReview:
    """Store a correction and its hair count (image-analysis provenance, same version, noted as
    corrected by the reviewer); the automatic count and earlier reviews stay."""
    found = session.get(ImageAnalysis, analysis_id)
    if found is None or found.kind != AnalysisKind.COUNT:
        raise NotFound("Analysis not found")
    image = load_image(session, actor, found.image_id, Permission.OUTCOME_WRITE)
    result = found.result
    automatic = len(result.get("hairs", []))
    clean_added = _valid_added(added, result["image_width"], result["image_height"])
    clean_removed = _valid_removed(removed, automatic)
    corrected = automatic - len(clean_removed) + len(clean_added)
    previous = latest_review(session, found.id)
    measurement = None
    if image.site_id is not None:  # a hair count always names its site
        replaced = session.get(Measurement, previous.measurement_id) if previous else None
        kind = load_kinds().get("hair_count")
        assert kind is not None
        measurement = Measurement(
            patient_id=image.patient_id,
            site_id=image.site_id,
            visit_id=image.visit_id,
            kind="hair_count",
            value=float(corrected),
            unit=kind.unit,
            measured_at=image.taken_at,
            source=MeasurementSource.IMAGE_ANALYSIS,
            recorded_by=actor.username,
            algorithm_version=found.algorithm_version,
            image_id=image.id,
            analysis_id=found.id,
            note=f"corrected by {actor.username}",
            status=MeasurementStatus.CORRECTED if replaced else MeasurementStatus.FINAL,
            corrects_id=replaced.id if replaced else None,
        )
        session.add(measurement)
        if replaced is not None:
            replaced.superseded_at = utcnow()
        session.flush()
    review = ImageReview(
        analysis_id=found.id,
        reviewed_by=actor.username,
        added=clean_added,
        removed=clean_removed,
        automatic_count=automatic,
        corrected_count=corrected,
        measurement_id=measurement.id if measurement else None,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor,
        "review",
        "clinical_image",
        image.id,
        patient_id=image.patient_id,
        clinic_id=image.clinic_id,
        detail={
            "analysis": str(found.id),
            "added": len(clean_added),
            "removed": len(clean_removed),
            "corrected_count": corrected,
        },
    )
    return review


@dataclass(frozen=True)
class ReviewedHairs:
    """The hairs an overlay or an export shows: detected ones not removed, plus added ones."""

    detected: list[dict[str, Any]]
    added: list[list[float]]

    @property
    def count(self) -> int:
        return len(self.detected) + len(self.added)


def reviewed_hairs(found: ImageAnalysis, review: ImageReview | None) -> ReviewedHairs:
    removed = set(review.removed) if review else set()
    detected = [h for h in found.result.get("hairs", []) if h["index"] not in removed]
    return ReviewedHairs(detected, list(review.added) if review else [])


def overlay_png(
    session: Session,
    actor: Actor,
    images_dir: Path,
    image_id: uuid.UUID,
    max_pixels: int,
    *,
    draw: bool = True,
) -> bytes:
    """The image with the latest analysis drawn on it (review applied), or without drawings
    (draw=False: the background of the review page's clickable layer); every view audited."""
    from PIL import Image

    from mesoclinic.imaging.overlay import render_overlay

    image = load_image(session, actor, image_id, Permission.OUTCOME_READ)
    found = next(iter(analyses_of(session, image.id)), None)
    if found is None:
        raise NotFound("This image has not been analysed yet")
    review = latest_review(session, found.id) if draw else None
    removed = set(review.removed) if review else set()
    result = image_analysis.result_from_json(found.result, removed)
    if review:
        extra = tuple(image_analysis.added_hair(*hair) for hair in review.added)
        result = dataclasses.replace(result, hairs=result.hairs + extra)
    loaded = image_analysis.load_pixels(images_dir, image, max_pixels)
    picture: Image.Image = (
        render_overlay(loaded.pixels, result, loaded.source_scale, None)
        if draw
        else Image.fromarray(loaded.pixels).convert("RGB")
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    audit.record(
        session,
        actor,
        "view_overlay",
        "clinical_image",
        image.id,
        patient_id=image.patient_id,
        clinic_id=image.clinic_id,
        detail={"analysis": str(found.id), "reviewed": review is not None, "drawn": draw},
    )
    return buffer.getvalue()


def analysis_status(
    session: Session, actor: Actor, image_id: uuid.UUID, all_versions: bool = False
) -> ImageAnalysisStatus:
    """The image's latest count with its review, and every job on it (audited read)."""
    image = load_image(session, actor, image_id, Permission.OUTCOME_READ)
    found = analyses_of(session, image.id)
    image_jobs = jobs_of(session, image.id)
    counts = [j for j in image_jobs if j.kind == AnalysisKind.COUNT and j.image_id == image.id]
    audit.record(
        session,
        actor,
        "read_analysis",
        "clinical_image",
        image.id,
        patient_id=image.patient_id,
        clinic_id=image.clinic_id,
    )
    return ImageAnalysisStatus(
        image_id=image.id,
        status=counts[0].status.value if counts else "none",
        analysis=_analysis_read(session, found[0]) if found else None,
        analyses=[_analysis_read(session, a) for a in found] if all_versions else None,
        jobs=[JobRead.model_validate(j) for j in image_jobs],
    )


def _analysis_read(session: Session, found: ImageAnalysis) -> AnalysisRead:
    review = latest_review(session, found.id)
    read = AnalysisRead.model_validate(found)
    read.review = ReviewRead.model_validate(review) if review else None
    return read
