"""What one request costs the server: CPU milliseconds and SQL statements per request.

Wall-clock latency on a shared machine says more about the other processes than about the
app; the CPU time a request takes and the statements it sends do not. This script builds the
app in-process on a database (made by bench/scale_data.py), signs in as `dr.moreau`, and for
each endpoint of bench/api_load.py sends `--requests` requests one after the other straight
into the ASGI app (no socket, no HTTP client: what is measured is the app's own work,
middleware, dependencies, SQL, rendering and encoding included, and the thread-pool hops of
its plain `def` handlers). Per endpoint it prints the median and mean CPU ms per request
(`time.process_time`, all threads of the process), the median wall ms, and the statements
per request (an event listener on the engine: each cursor execute, `executemany` one).

    PYTHONPATH=src python bench/request_cost.py --database sqlite:////tmp/mc-3k.db
    # where the time goes, for one endpoint (CPU time; handlers run inline so cProfile sees them):
    PYTHONPATH=src python bench/request_cost.py --database ... --profile "patient read"
    # a tiny group built on the spot (tests run this so the script cannot rot):
    PYTHONPATH=src python bench/request_cost.py --quick

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from api_load import PASSWORD, USER, endpoints  # noqa: E402 - bench/ is not a package

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Driver:
    """Sends one HTTP request at a time into an ASGI app and collects the answer."""

    def __init__(self, app: Asgi, token: str | None = None) -> None:
        self.app = app
        self.token = token

    async def request(
        self, method: str, target: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, bytes]:
        parts = urlsplit(target)
        headers = [(b"host", b"testserver"), (b"user-agent", b"request-cost")]
        if self.token:
            headers.append((b"authorization", f"Bearer {self.token}".encode()))
        if content_type:
            headers.append((b"content-type", content_type.encode()))
            headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects mid-request
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def get_json(self, target: str) -> Any:
        status, body = await self.request("GET", target)
        if status != 200:
            raise SystemExit(f"GET {target} answered {status}: {body[:300]!r}")
        return json.loads(body)


async def sign_in(driver: Driver) -> str:
    body = json.dumps({"username": USER, "password": PASSWORD}).encode()
    status, answer = await driver.request(
        "POST", "/api/v1/auth/token", body, content_type="application/json"
    )
    if status != 200:
        raise SystemExit(f"login as {USER} failed: {status} {answer[:300]!r}")
    return str(json.loads(answer)["access_token"])


async def sample_patients(driver: Driver) -> list[dict[str, Any]]:
    patients: list[dict[str, Any]] = []
    for offset in (0, 200, 400):
        page = await driver.get_json(f"/api/v1/patients?limit=200&offset={offset}")
        patients += page["items"]
    if not patients:
        raise SystemExit("the database has no patients: build data with bench/scale_data.py")
    return patients


def count_statements(engine: Any) -> list[int]:
    """A one-element counter the engine adds one to per statement sent."""
    from sqlalchemy import event

    counter = [0]

    def count(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return counter


def run_inline() -> None:
    """Run thread-pool work on the calling thread, so one profiler sees a whole request."""
    import anyio.to_thread

    async def inline(func: Callable[..., Any], *args: Any, **_kwargs: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]


async def measure(
    app: Any, requests: int, max_seconds: float, only: list[str] | None, profile: str | None
) -> dict[str, Any]:
    driver = Driver(app)
    driver.token = await sign_in(driver)
    patients = await sample_patients(driver)
    paths = endpoints(patients)
    if only:
        paths = {name: path for name, path in paths.items() if name in only}
    statements = count_statements(app.state.engine)
    rows = []
    for name, path in paths.items():
        rng = random.Random(18)
        for _ in range(5):  # warm: templates, caches, the pool's connections
            await driver.request("GET", path(rng))
        cpu: list[float] = []
        wall: list[float] = []
        counts: list[int] = []
        size = errors = 0
        profiler = cProfile.Profile(time.process_time) if profile == name else None
        if profiler:
            profiler.enable()
        deadline = time.perf_counter() + max_seconds
        while len(cpu) < requests and (len(cpu) < 10 or time.perf_counter() < deadline):
            target = path(rng)
            before = statements[0]
            c0, w0 = time.process_time(), time.perf_counter()
            status, body = await driver.request("GET", target)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            counts.append(statements[0] - before)
            size += len(body)
            errors += status != 200
        if profiler:
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
            print(out.getvalue(), file=sys.stderr)
        rows.append(
            {
                "endpoint": name,
                "requests": len(cpu),
                "errors": errors,
                "cpu_ms_p50": round(1000 * statistics.median(cpu), 2),
                "cpu_ms_mean": round(1000 * statistics.fmean(cpu), 2),
                "wall_ms_p50": round(1000 * statistics.median(wall), 2),
                "statements_mean": round(statistics.fmean(counts), 2),
                "statements_max": max(counts),
                "kb": round(size / len(cpu) / 1024, 1),
            }
        )
    return {"requests": requests, "endpoints": rows}


def print_table(figures: dict[str, Any]) -> None:
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'endpoint':26} {'CPU ms p50':>10} {'CPU mean':>9} {'wall p50':>9} "
        f"{'stmts':>6} {'max':>4} {'KB':>6}"
    )
    for r in figures["endpoints"]:
        print(
            f"{r['endpoint']:26} {r['cpu_ms_p50']:10} {r['cpu_ms_mean']:9} {r['wall_ms_p50']:9} "
            f"{r['statements_mean']:6} {r['statements_max']:4} {r['kb']:6}"
            + (f"  ({r['errors']} errors)" if r["errors"] else "")
        )


def build_app(database: str, data_dir: Path) -> Any:
    os.environ["MESOCLINIC_DATA_DIR"] = str(data_dir)
    from mesoclinic.app import create_app
    from mesoclinic.config import Settings

    settings = Settings(database_url=database, data_dir=data_dir, cookie_secure=False)
    return create_app(settings)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", help="SQLAlchemy URL of a database built by scale_data.py")
    parser.add_argument("--data-dir", type=Path, default=None, help="keys and images (tmp)")
    parser.add_argument("--requests", type=int, default=200, help="per endpoint")
    parser.add_argument(
        "--max-seconds", type=float, default=30.0, help="per endpoint (at least 10 requests)"
    )
    parser.add_argument("--endpoint", action="append", help="only this endpoint (repeatable)")
    parser.add_argument("--profile", help="print cProfile's top functions for this endpoint")
    parser.add_argument("--quick", action="store_true", help="tiny group, 20 requests each")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mc-cost-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        database = args.database
        requests = args.requests
        if args.quick:
            database = database or f"sqlite:///{tmp}/quick.db"
            requests = min(requests, 20)
            subprocess.run(
                [sys.executable, str(BENCH / "scale_data.py"), "--patients", "120"]
                + ["--database", database, "--data-dir", str(data_dir)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        if not database:
            raise SystemExit("give --database or --quick")
        if args.profile:
            run_inline()
        app = build_app(database, data_dir)
        try:
            figures = asyncio.run(
                measure(app, requests, args.max_seconds, args.endpoint, args.profile)
            )
        finally:
            app.state.engine.dispose()
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print_table(figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
