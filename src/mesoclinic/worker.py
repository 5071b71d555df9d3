"""`mesoclinic worker`: each area's background passes (outbox, analysis jobs...) in a loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mesoclinic import areas
from mesoclinic.config import Settings

log = logging.getLogger(__name__)
Task = Callable[[sessionmaker[Session], Settings], Any]


def run_once(
    factory: sessionmaker[Session],
    settings: Settings,
    tasks: list[tuple[str, Task]] | None = None,
) -> list[tuple[str, Any]]:
    """One pass of every area's task, in area order; each task owns its transactions."""
    reports: list[tuple[str, Any]] = []
    for name, task in tasks if tasks is not None else areas.worker_tasks():
        try:
            reports.append((name, task(factory, settings)))
        except Exception:  # noqa: BLE001 - one area's failure must not starve the others
            log.exception("worker pass of %s failed", name)
            reports.append((name, "failed (see the log)"))
    return reports


def run_forever(
    factory: sessionmaker[Session],
    settings: Settings,
    poll_seconds: float,
    stop: threading.Event | None = None,
    only: frozenset[str] | None = None,
) -> None:
    """Loop until `stop` is set (or the process is interrupted); `only` names the areas to run."""
    stop = stop or threading.Event()
    tasks = [(name, task) for name, task in areas.worker_tasks() if only is None or name in only]
    while not stop.is_set():
        for name, report in run_once(factory, settings, tasks):
            if report:
                log.info("%s: %s", name, report)
        stop.wait(poll_seconds)
