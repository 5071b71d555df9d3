"""The `mesoclinic` command: serve, database, demo, backup and restore, plus every area's commands.

Each area names its command modules in its `area.py` (`cli`) with the top-level commands they add
and their one-line help (`commands`); a module's `register(app)` adds them. The root command lists
the declared names and imports a module only when one of its commands runs, so `mesoclinic
--help` and every command load no more than they use (issue 18: tests/test_startup.py,
bench/startup.py). Nothing heavy is imported at the top of this module for the same reason.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from difflib import get_close_matches
from typing import Annotated, Any, ClassVar

import typer
import typer.main

# Typer (>= 0.29, pyproject.toml) carries its own Click; its group resolves commands in
# `_click_resolve_command`, which `LazyCommands.resolve_command` wraps.
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from mesoclinic import areas, startup
from mesoclinic.command import console, fail, open_database, read_password

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
__all__ = ["build_app", "fail", "main", "open_database", "read_password"]

# Commands of the core modules (not areas), loaded like an area's: name -> one-line help.
CORE_COMMANDS: tuple[tuple[tuple[str, ...], Mapping[str, str]], ...] = (
    (
        ("mesoclinic.backup",),
        {
            "backup": "Take a consistent copy of the database and images while the app runs.",
            "restore": (
                "Replace the database and images with a backup (everything current is overwritten)."
            ),
        },
    ),
    (
        ("mesoclinic.demo.cli",),
        {
            "demo": (
                "Create the demo clinic (staff, ~30 patients and their records) if the "
                "database is empty."
            )
        },
    ),
)


class LazyCommands(TyperGroup):
    """A root command whose declared commands are imported when one runs (or shows its help).

    `sources` maps a command name to (the modules whose `register` adds it, its one-line help).
    Listing (`--help`, shell completion) shows the declared help without importing anything.
    """

    sources: ClassVar[Mapping[str, tuple[tuple[str, ...], str]]] = {}
    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(name for name in self.sources if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in self.sources:
            return self.commands.get(cmd_name)
        modules, help_line = self.sources[cmd_name]
        if self._listing:
            return TyperCommand(name=cmd_name, help=help_line, short_help=help_line)
        self._load(modules)
        return self.commands.get(cmd_name)

    def _load(self, modules: tuple[str, ...]) -> None:
        """Register the modules' commands on a throw-away Typer, then adopt the declared ones
        (an undeclared command stays out of reach, which tests/test_startup.py catches)."""
        scratch = typer.Typer()
        for name in modules:
            importlib.import_module(name).register(scratch)
        loaded = typer.main.get_group(scratch)
        for name, command in loaded.commands.items():
            if self.sources.get(name, ((), ""))[0] == modules:
                self.commands.setdefault(name, command)

    @contextmanager
    def _only_declared(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._only_declared():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._only_declared():
            return super().shell_complete(ctx, incomplete)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Typer suggests close names from the loaded commands only; offer every declared one.
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as error:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if self.suggest_commands and matches:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from mesoclinic import migrate
    from mesoclinic.config import get_settings
    from mesoclinic.db import make_engine

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
    with startup.loading():  # no cycle collection while the app loads (mesoclinic.startup)
        import uvicorn

        from mesoclinic import migrate
        from mesoclinic import worker as background
        from mesoclinic.app import create_app
        from mesoclinic.config import get_settings
        from mesoclinic.db import make_engine

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
        _run_workers(
            uvicorn.Config(
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
        )
        return
    if demo and settings.database_url is None and "cookie_secure" not in settings.model_fields_set:
        # The demo runs on plain http://127.0.0.1; a real deployment sits behind HTTPS.
        settings.cookie_secure = False
    with startup.loading():
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
def _run_workers(config: Any) -> None:
    """`uvicorn.run(..., workers=N)` with a listening socket that says it is TCP.

    Uvicorn's `Config.bind_socket` leaves the socket's `proto` at 0, and asyncio sets
    TCP_NODELAY only on accepted sockets that say IPPROTO_TCP, so with `--workers` every
    keep-alive response sent in two writes waited for the client's delayed ACK: a ~40 ms floor
    on every request (uvicorn issue 3149; one process binds through asyncio and is not hit).
    The same descriptor, rewrapped with IPPROTO_TCP, goes to the worker processes.
    """
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[tcp_listener(config.bind_socket())]).run()


def tcp_listener(bound: Any) -> Any:
    """The bound socket's descriptor as a socket whose `proto` is IPPROTO_TCP (a Unix socket
    as it is); the old object no longer owns the descriptor."""
    import socket

    if bound.family not in (socket.AF_INET, socket.AF_INET6):
        return bound
    tcp = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    tcp.set_inheritable(True)
    return tcp


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

    from mesoclinic import worker as background

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
    """The full command tree: core commands plus each area's (by default every declared area).

    `serve`, `worker` and `db` are defined here; the others are declared (name and help) and
    their modules imported when one of them runs (`LazyCommands`).
    """
    sources: dict[str, tuple[tuple[str, ...], str]] = {}
    declared = [*CORE_COMMANDS, *((a.cli, a.commands) for a in areas.all_areas(packages))]
    for modules, commands in declared:
        for name, help_line in commands.items():
            if name in sources or name in {"serve", "worker", "db"}:
                raise ValueError(f"command {name!r} is declared twice")
            sources[name] = (modules, help_line)
    root = type("MesoclinicCommands", (LazyCommands,), {"sources": sources})
    app = typer.Typer(
        cls=root, help="mesoclinic: scalp mesotherapy clinic system.", no_args_is_help=True
    )
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(db_app, name="db")
    return app


def main() -> None:
    build_app()()


if __name__ == "__main__":  # pragma: no cover
    main()
