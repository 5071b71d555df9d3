"""What the image page offers and shows for image pairs: the images a trichoscopy image can be
paired with (phototrichogram) or compared against (follow-up), each refusal put in plain words
before the clinician tries, and the pair results that involve the image.

The rules themselves live in growth_pairs.link and followup.link, which check again on posting;
these lists only spare the clinician choices that would be refused. No audit here: the callers
have loaded (and audited) the image or the patient's sites.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.outcomes.growth_pairs import MAX_DAYS, MIN_DAYS, interval_days
from mesoclinic.outcomes.models import (
    AnalysisJob,
    AnalysisKind,
    ClinicalImage,
    ImageAnalysis,
    ImageKind,
    JobStatus,
)

PENDING = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


@dataclass(frozen=True)
class Choice:
    image: ClinicalImage
    days: float  # signed: negative when the choice was taken before the image of the page


@dataclass(frozen=True)
class Choices:
    """The images to offer, or (when there are none) why not, in words for the clinician."""

    options: list[Choice] = field(default_factory=list)
    reason: str | None = None


@dataclass(frozen=True)
class Comparison:
    """A pair job involving the image, its result once done, and the other image of the pair."""

    job: AnalysisJob
    first: ClinicalImage  # the earlier image (baseline)
    second: ClinicalImage  # the later image (follow-up)
    result: dict[str, Any] | None

    @property
    def pending(self) -> bool:
        return self.job.status in PENDING

    @property
    def days(self) -> float:
        return interval_days(self.first, self.second)

    def other(self, image_id: uuid.UUID) -> ClinicalImage:
        return self.second if self.first.id == image_id else self.first


def _site_images(session: Session, image: ClinicalImage) -> list[ClinicalImage]:
    """The other active trichoscopy images of the image's patient and site, by time taken."""
    return list(
        session.execute(
            select(ClinicalImage)
            .where(
                ClinicalImage.patient_id == image.patient_id,
                ClinicalImage.site_id == image.site_id,
                ClinicalImage.kind == ImageKind.TRICHOSCOPY,
                ClinicalImage.status == RecordStatus.ACTIVE,
                ClinicalImage.id != image.id,
            )
            .order_by(ClinicalImage.taken_at)
        ).scalars()
    )


def _unpairable(image: ClinicalImage) -> str | None:
    if image.status != RecordStatus.ACTIVE:
        return "This image is marked as entered in error, so it is not compared with others."
    if image.site is None:
        return (
            "This image was not taken at a marked scalp site. Pairs compare the same spot, "
            "so name its site first (upload it again with the site chosen)."
        )
    return None


def growth_choices(session: Session, image: ClinicalImage) -> Choices:
    """Images of the same clipped site taken 1-5 days before or after this one."""
    reason = _unpairable(image)
    if reason:
        return Choices(reason=reason)
    assert image.site is not None
    if not image.site.clipped:
        return Choices(
            reason=f"The site {image.site.label} is not marked as clipped. A phototrichogram "
            "needs a clipped patch: mark the site as clipped on the Outcomes tab once it is."
        )
    options = [
        Choice(other, interval_days(image, other))
        for other in _site_images(session, image)
        if MIN_DAYS <= abs(interval_days(image, other)) <= MAX_DAYS
    ]
    if not options:
        return Choices(
            reason=f"No other trichoscopy image of {image.site.label} was taken 1-5 days before "
            "or after this one. Take the second image of the pair 2-3 days after clipping."
        )
    return Choices(options)


def baseline_choices(session: Session, image: ClinicalImage) -> Choices:
    """Earlier images of the same site, newest first, to compare this one against."""
    reason = _unpairable(image)
    if reason:
        return Choices(reason=reason)
    assert image.site is not None
    earlier = [o for o in _site_images(session, image) if o.taken_at < image.taken_at]
    if not earlier:
        return Choices(
            reason=f"There is no earlier trichoscopy image of {image.site.label}: this one is "
            "the baseline. Later images of the site can be compared with it."
        )
    return Choices([Choice(o, interval_days(image, o)) for o in reversed(earlier)])


def comparisons(session: Session, image_id: uuid.UUID, kind: AnalysisKind) -> list[Comparison]:
    """GROWTH or FOLLOW_UP jobs with the image on either side, newest first."""
    found = list(
        session.execute(
            select(AnalysisJob)
            .where(
                AnalysisJob.kind == kind,
                or_(AnalysisJob.image_id == image_id, AnalysisJob.second_image_id == image_id),
            )
            .order_by(AnalysisJob.created_at.desc())
        ).scalars()
    )
    return _with_results(session, found)


def _with_results(session: Session, found: list[AnalysisJob]) -> list[Comparison]:
    if not found:
        return []
    results = {
        a.job_id: a.result
        for a in session.execute(
            select(ImageAnalysis).where(ImageAnalysis.job_id.in_([j.id for j in found]))
        ).scalars()
    }
    image_ids = {j.image_id for j in found} | {j.second_image_id for j in found}
    loaded = {
        i.id: i
        for i in session.execute(
            select(ClinicalImage).where(ClinicalImage.id.in_([i for i in image_ids if i]))
        ).scalars()
    }
    return [
        Comparison(j, loaded[j.image_id], loaded[j.second_image_id], results.get(j.id))
        for j in found
        if j.second_image_id is not None
    ]


def latest_follow_up_by_site(
    session: Session, patient_id: uuid.UUID
) -> dict[uuid.UUID, Comparison]:
    """Site id -> its newest finished follow-up comparison, for the Outcomes tab."""
    done = list(
        session.execute(
            select(AnalysisJob)
            .join(ClinicalImage, ClinicalImage.id == AnalysisJob.image_id)
            .where(
                AnalysisJob.kind == AnalysisKind.FOLLOW_UP,
                AnalysisJob.status == JobStatus.DONE,
                ClinicalImage.patient_id == patient_id,
            )
            .order_by(AnalysisJob.finished_at.desc())
        ).scalars()
    )
    latest: dict[uuid.UUID, Comparison] = {}
    newest: dict[uuid.UUID, datetime] = {}
    for c in _with_results(session, done):
        site = c.second.site_id
        if site is None or c.result is None:
            continue
        # Newest by when the follow-up image was taken, not when the job ran.
        if site not in newest or c.second.taken_at > newest[site]:
            latest[site], newest[site] = c, c.second.taken_at
    return latest
