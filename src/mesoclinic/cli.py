"""The `mesoclinic` command: serve, database, demo, backup and restore, plus every area's commands.

Each area names its command module in its `area.py`; that module's `register(app)` adds them.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import typer

from mesoclinic import areas, backup, migrate
from mesoclinic import worker as background
from mesoclinic.command import console, fail, open_database, read_password
from mesoclinic.config import get_settings
from mesoclinic.db import make_engine
from mesoclinic.demo import cli as demo_cli

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
__all__ = ["build_app", "fail", "main", "open_database", "read_password"]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    console.print(f"schema at {migrate.current_revision(engine)}")


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="create the demo clinic if the database is empty")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="server processes sharing the port (more cores; state is in the database)",
        ),
    ] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="behind a load balancer: its addresses, whose X-Forwarded-For/-Proto are trusted",
        ),
    ] = None,
) -> None:
    """Run the web app and the JSON API."""
    import uvicorn

    from mesoclinic.app import create_app

    settings = get_settings()
    # Without a trusted proxy the client address is the socket's (audit entries record it).
    proxy: dict[str, Any] = {"proxy_headers": False}
    if forwarded_allow_ips is not None:
        proxy = {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}
    if workers > 1:
        if demo:
            raise fail("the demo clinic runs in one process: leave out --workers")
        # Migrate once here; each worker process then builds its app without migrating.
        migrate.upgrade(make_engine(settings.resolved_database_url))
        console.print(
            f"mesoclinic on http://{host}:{port}, {workers} processes (data in {settings.data_dir})"
        )
        uvicorn.run(
            WORKER_APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # Uvicorn kills a process that does not answer its ping in time; importing every
            # area takes seconds on a busy host, so 5 s (the default) restarts them in a loop.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            log_level="info",
            **proxy,
        )
        return
    if demo and settings.database_url is None and "cookie_secure" not in settings.model_fields_set:
        # The demo runs on plain http://127.0.0.1; a real deployment sits behind HTTPS.
        settings.cookie_secure = False
    application = create_app(settings)
    if demo:
        from mesoclinic.demo import seed

        created = seed.ensure_demo(application.state.sessionmaker, settings)
        application.state.show_tour = True
        seed.print_welcome(console, f"http://{host}:{port}", created)
        # The demo needs no separate `mesoclinic worker`: image analysis and audit sealing run
        # in the background here (e-mail stays with a real worker and a real SMTP server).
        threading.Thread(
            target=background.run_forever,
            args=(application.state.sessionmaker, settings, DEMO_WORKER_SECONDS),
            kwargs={"only": DEMO_WORKER_AREAS},
            name="demo-worker",
            daemon=True,
        ).start()
    else:
        console.print(f"mesoclinic on http://{host}:{port} (data in {settings.data_dir})")
    uvicorn.run(application, host=host, port=port, log_level="info", **proxy)


# Uvicorn imports the app of each `serve --workers N` process by name.
WORKER_APP = "mesoclinic.app:create_worker_app"
WORKER_HEALTHCHECK_SECONDS = 60
DEMO_WORKER_AREAS = frozenset({"security", "outcomes", "fhir"})
DEMO_WORKER_SECONDS = 2.0


def worker(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", min=0.1, help="pause between passes")
    ] = 30.0,
) -> None:
    """Run the background work: reminder emails from the outbox, and each area's jobs."""
    import logging
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings, factory = open_database()
    console.print(
        f"worker: SMTP {settings.smtp_host}:{settings.smtp_port}, from {settings.mail_from}"
    )
    if once:
        for name, report in background.run_once(factory, settings):
            console.print(f"{name}: {report}")
        return
    stop = threading.Event()
    # SIGTERM (systemd, docker stop) lets the current pass finish, so no message is cut off
    # between the SMTP hand-over and its "sent" mark.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        background.run_forever(factory, settings, poll_seconds, stop)
    except KeyboardInterrupt:
        pass
    console.print("worker stopped")


def build_app(packages: tuple[str, ...] | None = None) -> typer.Typer:
    """The full command tree: core commands plus each area's (by default every declared area)."""
    app = typer.Typer(help="mesoclinic: scalp mesotherapy clinic system.", no_args_is_help=True)
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(db_app, name="db")
    for module in [backup, demo_cli, *areas.cli_modules(areas.all_areas(packages))]:
        module.register(app)
    return app


def main() -> None:
    build_app()()


if __name__ == "__main__":  # pragma: no cover
    main()
