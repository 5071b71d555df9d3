"""Phototrichogram: two trichoscopy images of one clipped site 1-5 days apart, linked as a pair
and analysed for anagen (growing) and telogen (resting or shed) hairs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes import jobs
from mesoclinic.outcomes.analysis import CURRENT_VERSION, Outcome, detector_for, load_pixels
from mesoclinic.outcomes.analysis import profile_of as device_profile
from mesoclinic.outcomes.models import AnalysisJob, AnalysisKind, ClinicalImage, ImageKind
from mesoclinic.patients import service as patient_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

MIN_DAYS, MAX_DAYS = 1.0, 5.0
SECOND = "second_image_id"


def load_pair(
    session: Session, actor: Actor, image_id: uuid.UUID, second_id: uuid.UUID
) -> tuple[ClinicalImage, ClinicalImage]:
    """Two active trichoscopy images of the same patient and the same marked site, earlier
    first; 422 naming second_image_id when they cannot be compared."""
    first = patient_service.load_owned(
        session, actor, ClinicalImage, image_id, Permission.OUTCOME_WRITE, "Image"
    )
    second = patient_service.load_owned(
        session, actor, ClinicalImage, second_id, Permission.OUTCOME_WRITE, "Image"
    )
    if first.id == second.id:
        raise InvalidInput("choose a different image to compare with", field=SECOND)
    for image in (first, second):
        if image.kind != ImageKind.TRICHOSCOPY:
            raise InvalidInput("both images must be trichoscopy images", field=SECOND)
        if image.status != RecordStatus.ACTIVE:
            raise InvalidInput("an image entered in error cannot be compared", field=SECOND)
    if first.patient_id != second.patient_id:
        raise InvalidInput("the two images are of different patients", field=SECOND)
    if first.site_id is None or second.site_id is None:
        raise InvalidInput("both images must be taken at a marked scalp site", field=SECOND)
    if first.site_id != second.site_id:
        raise InvalidInput(
            "the two images are of different sites; compare like with like", field=SECOND
        )
    return (first, second) if first.taken_at <= second.taken_at else (second, first)


def interval_days(first: ClinicalImage, second: ClinicalImage) -> float:
    return (second.taken_at - first.taken_at).total_seconds() / 86400.0


def link(session: Session, actor: Actor, image_id: uuid.UUID, second_id: uuid.UUID) -> AnalysisJob:
    """Queue the GROWTH job of a phototrichogram pair after checking it is one."""
    first, second = load_pair(session, actor, image_id, second_id)
    assert first.site is not None
    if not first.site.clipped:
        raise InvalidInput(
            f"the site {first.site.label!r} is not marked as clipped; a phototrichogram needs "
            "a clipped patch",
            field=SECOND,
        )
    days = interval_days(first, second)
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput(
            f"the images are {days:.1f} days apart; a phototrichogram pair is 1-5 days apart "
            "(2-3 is usual)",
            field=SECOND,
        )
    return queue_pair(
        session,
        actor,
        AnalysisKind.GROWTH,
        first,
        second,
        action="link_growth_pair",
        second_label="second_image",
    )


def queue_pair(
    session: Session,
    actor: Actor,
    kind: AnalysisKind,
    first: ClinicalImage,
    second: ClinicalImage,
    *,
    action: str,
    second_label: str,
) -> AnalysisJob:
    """Queue the two-image job of the current algorithm and audit the link on the first image."""
    job = jobs.enqueue(
        session,
        kind=kind,
        image_id=first.id,
        second_image_id=second.id,
        algorithm_version=CURRENT_VERSION,
        requested_by=actor.username,
    )
    audit.record(
        session,
        actor,
        action,
        "clinical_image",
        first.id,
        patient_id=first.patient_id,
        clinic_id=first.clinic_id,
        detail={second_label: str(second.id), "job": str(job.id)},
    )
    return job


def growth(
    images_dir: Path,
    first: ClinicalImage,
    second: ClinicalImage,
    version: str,
    max_pixels: int,
) -> Outcome:
    """GROWTH job: register the pair, follow each hair, anagen % and telogen %."""
    from mesoclinic.imaging.analysis import AnalysisParams
    from mesoclinic.imaging.growth import analyze_growth

    params = AnalysisParams(detector=detector_for(version))
    # Full resolution: the growth code takes pixels as source pixels (no reduced decode).
    before = load_pixels(images_dir, first, max_pixels, reduce=False)
    after = load_pixels(images_dir, second, max_pixels, reduce=False)
    profile = device_profile(first)
    calibration = profile.calibration_for(before.source_width) if profile else None
    roi = profile.roi_for(before.source_width, before.source_height) if profile else None
    days = interval_days(first, second)
    result = analyze_growth(before.pixels, after.pixels, days, calibration, roi, params)
    ratio = result.anagen_ratio
    record: dict[str, Any] = {
        "kind": "growth",
        "algorithm_version": result.algorithm_version,
        "days": round(days, 2),
        "shift": [round(result.shift_x_px, 1), round(result.shift_y_px, 1)],
        "min_growth_px": round(result.min_growth_px, 1),
        "anagen_count": result.anagen_count,
        "telogen_count": result.telogen_count,
        "shed_count": result.unmatched_before,
        "anagen_percent": None if ratio is None else round(100 * ratio, 1),
        "telogen_percent": None if ratio is None else round(100 * (1 - ratio), 1),
        "matched_hairs": [
            {
                "exit": [round(h.x, 1), round(h.y, 1)],
                "length_before_px": round(h.length_before_px, 1),
                "length_after_px": round(h.length_after_px, 1),
                "anagen": h.anagen,
            }
            for h in result.hairs
        ],
    }
    values: list[tuple[str, float]] = []
    if ratio is not None:
        values = [
            ("anagen_percent", round(100 * ratio, 2)),
            ("telogen_percent", round(100 * (1 - ratio), 2)),
        ]
    return Outcome(record, values)
