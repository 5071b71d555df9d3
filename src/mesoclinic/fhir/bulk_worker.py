"""The bulk export pass of `mesoclinic worker`: claim queued exports one by one and write them."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from mesoclinic.config import Settings
from mesoclinic.fhir import bulk, bulk_export

log = logging.getLogger(__name__)
# Patients per batch (one keyset page, one lease renewal, one progress step).
BATCH_ENV = "MESOCLINIC_FHIR_EXPORT_BATCH"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_pending(factory: sessionmaker[Session], settings: Settings) -> str:
    """Claim and run exports until none is due; a printable report of what happened."""
    me = worker_id()
    lease = timedelta(seconds=settings.analysis_lease_seconds)
    batch = int(os.environ.get(BATCH_ENV, "") or bulk_export.BATCH_SIZE)
    done = failed = stopped = 0
    while (held := bulk.claim(factory, me, lease)) is not None:
        try:
            finished = bulk_export.run(factory, settings.data_dir, held, lease, batch_size=batch)
        except Exception as error:  # noqa: BLE001 - one export's failure fails that job only
            log.exception("bulk export %s failed", held.job_id)
            failed += bulk.fail(factory, held, f"{type(error).__name__}: {error}") is not None
            continue
        if finished:
            done += 1
        else:
            stopped += 1
    if not done + failed + stopped:
        return ""
    return f"exports written {done}, failed {failed}, cancelled or taken over {stopped}"
