"""Same-site follow-up, hair by hair: a baseline and a later image of one marked site are
registered and their hairs matched one to one, so change is measured on the same hairs
(hair-to-hair matching cut the error of measured change from ~9 % to under 1 %: Bokhari et
al., Skin Appendage Disord 2022)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes.analysis import Outcome, analyse, prepare
from mesoclinic.outcomes.growth_pairs import SECOND, load_pair, queue_pair
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ClinicalImage,
    ImageAnalysis,
)
from mesoclinic.security.actor import Actor

REFERENCE_WIDTH_PX = 1280  # PAIR_RADIUS_PX is for a 1280 px wide 70x frame


def link(session: Session, actor: Actor, image_id: uuid.UUID, second_id: uuid.UUID) -> AnalysisJob:
    """Queue the FOLLOW_UP job of a baseline and a later image of the same site (any interval)."""
    baseline, later = load_pair(session, actor, image_id, second_id)
    if baseline.taken_at == later.taken_at:
        raise InvalidInput("the follow-up must be taken after the baseline", field=SECOND)
    return queue_pair(
        session,
        actor,
        AnalysisKind.FOLLOW_UP,
        baseline,
        later,
        action="link_follow_up",
        second_label="follow_up_image",
    )


def follow_up(
    images_dir: Path,
    baseline: ClinicalImage,
    later: ClinicalImage,
    version: str,
    max_pixels: int,
) -> Outcome:
    """FOLLOW_UP job: hairs kept, lost and new, and the diameter change of the kept ones."""
    import numpy as np

    from mesoclinic.imaging.growth import PAIR_RADIUS_PX, register_exit_points, register_shift
    from mesoclinic.imaging.matching import match_points

    first_in = prepare(images_dir, baseline, version, max_pixels)
    second_in = prepare(images_dir, later, version, max_pixels)
    first, second = analyse(first_in), analyse(second_in)
    hint = (0.0, 0.0)
    if first_in.loaded.pixels.shape == second_in.loaded.pixels.shape:
        dx, dy = register_shift(first_in.loaded.pixels, second_in.loaded.pixels)
        scale = first_in.loaded.source_scale
        hint = (dx * scale, dy * scale)
    shift = register_exit_points(first, second, hint)
    radius = PAIR_RADIUS_PX * first_in.loaded.source_width / REFERENCE_WIDTH_PX
    moved = np.array([[h.x + shift[0], h.y + shift[1]] for h in first.hairs]).reshape(-1, 2)
    after = np.array([[h.x, h.y] for h in second.hairs]).reshape(-1, 2)
    pairs = match_points(moved, after, radius)
    kept_first = {r for r, _ in pairs}
    kept_second = {c for _, c in pairs}
    kept = []
    changes = []
    for r, c in pairs:
        before_um, after_um = first.hairs[r].diameter_um, second.hairs[c].diameter_um
        change = None if before_um is None or after_um is None else after_um - before_um
        if change is not None:
            changes.append(change)
        kept.append(
            {
                "baseline": [round(first.hairs[r].x, 1), round(first.hairs[r].y, 1)],
                "follow_up": [round(second.hairs[c].x, 1), round(second.hairs[c].y, 1)],
                "diameter_before_um": _round(before_um),
                "diameter_after_um": _round(after_um),
                "diameter_change_um": _round(change),
            }
        )
    record: dict[str, Any] = {
        "kind": "follow-up",
        "algorithm_version": first.algorithm_version,
        "days": round((later.taken_at - baseline.taken_at).total_seconds() / 86400.0, 1),
        "shift": [round(shift[0], 1), round(shift[1], 1)],
        "match_radius_px": round(radius, 1),
        "baseline_count": first.hair_count,
        "follow_up_count": second.hair_count,
        "kept_count": len(pairs),
        "lost_count": first.hair_count - len(pairs),
        "new_count": second.hair_count - len(pairs),
        "mean_diameter_change_um": _round(sum(changes) / len(changes)) if changes else None,
        "kept": kept,
        "lost": [
            [round(h.x, 1), round(h.y, 1)] for i, h in enumerate(first.hairs) if i not in kept_first
        ],
        "new": [
            [round(h.x, 1), round(h.y, 1)]
            for i, h in enumerate(second.hairs)
            if i not in kept_second
        ],
    }
    return Outcome(record, [])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def for_site(session: Session, image: ClinicalImage) -> list[ImageAnalysis]:
    """Follow-up results of this image's site (any pair of its images), newest first."""
    if image.site_id is None:
        return []
    site_images = select(ClinicalImage.id).where(ClinicalImage.site_id == image.site_id)
    return list(
        session.execute(
            select(ImageAnalysis)
            .where(
                ImageAnalysis.kind == AnalysisKind.FOLLOW_UP,
                or_(
                    ImageAnalysis.image_id.in_(site_images),
                    ImageAnalysis.second_image_id.in_(site_images),
                ),
            )
            .order_by(ImageAnalysis.created_at.desc())
        ).scalars()
    )
