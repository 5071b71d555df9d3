"""`mesoclinic worker`: queue due reminders and send the outbox over SMTP."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from mesoclinic.aftercare.worker import run_forever, run_once
from mesoclinic.migrate import open_database

console = Console()


def worker(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", min=0.1, help="pause between passes")
    ] = 30.0,
) -> None:
    """Send reminder and aftercare emails from the outbox (retries, never twice on restart)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings, factory = open_database()
    console.print(
        f"outbox worker: SMTP {settings.smtp_host}:{settings.smtp_port}, from {settings.mail_from}"
    )
    if once:
        report = run_once(factory, settings)
        console.print(
            f"queued {report.queued}, sent {report.sent}, "
            f"retrying {report.retrying}, failed {report.failed}"
        )
        return
    stop = threading.Event()
    # SIGTERM (systemd, docker stop) lets the current pass finish, so no message is cut off
    # between the SMTP hand-over and its "sent" mark.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        run_forever(factory, settings, poll_seconds, stop)
    except KeyboardInterrupt:
        pass
    console.print("worker stopped")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
