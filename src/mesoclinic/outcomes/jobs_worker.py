"""The analysis pass of `mesoclinic worker`: claim due jobs one by one, run each, store it."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.config import Settings
from mesoclinic.outcomes import analysis, followup, growth_pairs, jobs
from mesoclinic.outcomes.models import AnalysisKind, ClinicalImage

log = logging.getLogger(__name__)
# Seconds to pause after claiming each job: lets a test kill a worker mid-job deterministically.
DELAY_ENV = "MESOCLINIC_ANALYSIS_DELAY_SECONDS"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_job(
    factory: sessionmaker[Session], settings: Settings, claim: jobs.Claim
) -> analysis.Outcome:
    """Run one claimed job outside any transaction (the images are read, then released)."""
    with factory() as session:
        first = session.get(ClinicalImage, claim.image_id)
        second = (
            session.get(ClinicalImage, claim.second_image_id) if claim.second_image_id else None
        )
        session.expunge_all()
    if first is None or (claim.second_image_id and second is None):
        raise analysis.AnalysisError("the image is gone")
    images, limit = settings.images_dir, settings.image_max_pixels
    if claim.kind == AnalysisKind.COUNT:
        return analysis.count(images, first, claim.algorithm_version, limit)
    assert second is not None
    if claim.kind == AnalysisKind.GROWTH:
        return growth_pairs.growth(images, first, second, claim.algorithm_version, limit)
    return followup.follow_up(images, first, second, claim.algorithm_version, limit)


def run_pending(factory: sessionmaker[Session], settings: Settings) -> str:
    """Claim and run jobs until none is due; a printable report of what happened."""
    me = worker_id()
    lease = timedelta(seconds=settings.analysis_lease_seconds)
    delay = float(os.environ.get(DELAY_ENV, "0") or 0)
    done = failed = lost = 0
    while (claim := jobs.claim(factory, me, lease)) is not None:
        if delay:
            time.sleep(delay)
        try:
            outcome = run_job(factory, settings, claim)
        except Exception as error:  # noqa: BLE001 - any failure of one image fails that job only
            log.warning("analysis job %s failed: %s", claim.job_id, error)
            status = jobs.fail(factory, claim, f"{type(error).__name__}: {error}")
            failed += status is not None
            lost += status is None
            continue
        if jobs.complete(factory, claim, outcome.result, outcome.values) is None:
            log.warning("analysis job %s was taken over by another worker", claim.job_id)
            lost += 1
        else:
            done += 1
    return f"analysed {done}, failed {failed}, taken over {lost}"
