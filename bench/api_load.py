"""Drive a running mesoclinic server with N concurrent connections and print latency figures.

For each endpoint, N threads (one keep-alive HTTP connection each) send requests back to back
for `--seconds`; the script prints p50/p95/p99 latency, requests/s and the ratio of those
requests/s to the bare endpoint's (`/healthz`, measured the same way in the same run, so the
ratio says how much the endpoint's own work costs on this machine whatever its load).
Then the head-of-line figure: patient reads' requests/s while one connection keeps asking for
the slowest page, against patient reads alone (1.0 = no blocking).

Endpoints: patient search by name prefix, birth date, phone and record number, patient read,
visits of a patient, week calendar (API), dashboard, patient page, patient list page, today's
calendar page. Parameters are sampled from the server's own patients (first API page).

    # against a server you started (MESOCLINIC_DATABASE_URL=... mesoclinic serve):
    PYTHONPATH=src python bench/api_load.py --url http://127.0.0.1:8000 --connections 8
    # or let the script start `mesoclinic serve` on a database built by bench/scale_data.py
    # (`--workers N`: that many server processes, `serve --workers N`):
    PYTHONPATH=src python bench/api_load.py --database sqlite:////tmp/mc-3k.db [--workers 2]
    # CI: builds a tiny group, starts a server, a second per endpoint (cannot rot; the test
    # suite gives --seconds 0.3):
    PYTHONPATH=src python bench/api_load.py --quick

The machine's load average before and after the run is printed with the figures. The last
line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

BENCH = Path(__file__).resolve().parent
USER, PASSWORD = "dr.moreau", "mesoclinic-demo"


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    bytes: int = 0

    def figures(self, bare_rps: float | None) -> dict[str, Any]:
        lat = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1)

        rps = len(self.latencies) / self.seconds if self.seconds else 0.0
        return {
            "endpoint": self.name,
            "requests": len(self.latencies),
            "errors": self.errors,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "rps": round(rps, 1),
            "x_bare": round(rps / bare_rps, 2) if bare_rps else None,
            "kb": round(self.bytes / max(1, len(self.latencies)) / 1024, 1),
        }


class Connection:
    """One keep-alive HTTP/1.1 connection with the caller's bearer token."""

    def __init__(self, base: str, token: str | None) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            return 599, b""

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.conn.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"null")


def run_endpoint(
    base: str,
    token: str,
    name: str,
    paths: Callable[[random.Random], str],
    connections: int,
    seconds: float,
    stop: threading.Event | None = None,
) -> Result:
    """N threads, each on its own connection, requesting back to back for `seconds`."""
    result = Result(name)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(k: int) -> None:
        rng = random.Random(k)
        conn = Connection(base, token)
        mine: list[float] = []
        errors = size = 0
        while time.perf_counter() < deadline and not (stop and stop.is_set()):
            path = paths(rng)
            t0 = time.perf_counter()
            status, body = conn.get(path)
            elapsed = time.perf_counter() - t0
            if status == 200:
                mine.append(elapsed)
                size += len(body)
            else:
                errors += 1
        with lock:
            result.latencies.extend(mine)
            result.errors += errors
            result.bytes += size

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    return result


def token_for(base: str, username: str, password: str) -> str:
    status, body = Connection(base, None).post_json(
        "/api/v1/auth/token", {"username": username, "password": password}
    )
    if status != 200:
        raise SystemExit(f"login as {username} failed: {status} {body}")
    return str(body["access_token"])


def sample_patients(base: str, token: str) -> list[dict[str, Any]]:
    conn = Connection(base, token)
    patients: list[dict[str, Any]] = []
    for offset in (0, 200, 400):
        status, body = conn.get(f"/api/v1/patients?limit=200&offset={offset}")
        if status != 200:
            raise SystemExit(f"patient list failed: {status} {body[:200]!r}")
        patients += json.loads(body)["items"]
    if not patients:
        raise SystemExit("the server has no patients: build data with bench/scale_data.py")
    return patients


def endpoints(patients: list[dict[str, Any]]) -> dict[str, Callable[[random.Random], str]]:
    """Each endpoint as a function of a random generator to the path of one request."""
    monday = date.today() - timedelta(days=date.today().weekday())

    def pick(rng: random.Random) -> dict[str, Any]:
        return rng.choice(patients)

    def week(rng: random.Random) -> str:
        start = monday + timedelta(weeks=rng.randrange(-8, 4))
        end = start + timedelta(days=7)
        return f"start={quote(f'{start}T00:00:00+00:00')}&end={quote(f'{end}T00:00:00+00:00')}"

    def digits(p: dict[str, Any]) -> str:
        return "".join(ch for ch in p.get("phone") or "0000000" if ch.isdigit())[-7:]

    return {
        "bare (/healthz)": lambda rng: "/healthz",
        "search: name prefix": lambda rng: f"/api/v1/patients?q={pick(rng)['family_name'][:3]}",
        "search: birth date": lambda rng: f"/api/v1/patients?birth_date={pick(rng)['birth_date']}",
        "search: phone": lambda rng: f"/api/v1/patients?q={digits(pick(rng))}",
        "search: record number": lambda rng: f"/api/v1/patients?q={pick(rng)['record_number']}",
        "patient read": lambda rng: f"/api/v1/patients/{pick(rng)['id']}",
        "visits of a patient": lambda rng: f"/api/v1/patients/{pick(rng)['id']}/visits",
        "week calendar (API)": lambda rng: f"/api/v1/appointments?{week(rng)}",
        "dashboard (page)": lambda rng: "/",
        "patient page": lambda rng: f"/patients/{pick(rng)['id']}",
        "patient list (page)": lambda rng: f"/patients?q={pick(rng)['family_name'][:3]}",
        "day calendar (page)": lambda rng: "/calendar",
    }


def head_of_line(
    base: str,
    token: str,
    reads: Callable[[random.Random], str],
    slow_name: str,
    slow: Callable[[random.Random], str],
    connections: int,
    seconds: float,
) -> dict[str, Any]:
    """Patient reads' requests/s with one connection looping the slowest page, vs alone."""
    alone = run_endpoint(base, token, "reads alone", reads, connections, seconds)
    stop = threading.Event()
    hog = threading.Thread(
        target=run_endpoint, args=(base, token, slow_name, slow, 1, seconds * 10, stop)
    )
    hog.start()
    time.sleep(0.2)
    during = run_endpoint(base, token, "reads during", reads, connections, seconds)
    stop.set()
    hog.join()
    a, d = alone.figures(None)["rps"], during.figures(None)["rps"]
    return {
        "slowest": slow_name,
        "reads_alone_rps": a,
        "reads_during_rps": d,
        "ratio": round(d / a, 2) if a else None,
        "reads_during_p95_ms": during.figures(None)["p95_ms"],
    }


def measure(base: str, connections: int, seconds: float) -> dict[str, Any]:
    token = token_for(base, USER, PASSWORD)
    patients = sample_patients(base, token)
    paths = endpoints(patients)
    for _name, path in paths.items():  # warm every route once (templates, caches)
        Connection(base, token).get(path(random.Random(0)))
    results = {
        name: run_endpoint(base, token, name, path, connections, seconds)
        for name, path in paths.items()
    }
    bare = results["bare (/healthz)"].figures(None)["rps"]
    rows = [r.figures(bare) for r in results.values()]
    slowest = max(rows[1:], key=lambda r: r["p50_ms"])["endpoint"]
    hol = head_of_line(
        base,
        token,
        paths["patient read"],
        slowest,
        paths[slowest],
        connections,
        seconds,
    )
    return {"connections": connections, "seconds": seconds, "endpoints": rows, "head_of_line": hol}


def print_table(figures: dict[str, Any]) -> None:
    before, after = figures["load_average_before"], figures["load_average_after"]
    print(f"load average (1, 5, 15 min): {before} before the run, {after} after")
    if "workers" in figures:
        print(f"server processes: {figures['workers']}")
    print(f"{'endpoint':26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'x bare':>7}")
    for r in figures["endpoints"]:
        ratio = "" if r["x_bare"] is None else r["x_bare"]
        print(
            f"{r['endpoint']:26} {r['p50_ms']:8} {r['p95_ms']:8} {r['p99_ms']:8} "
            f"{r['rps']:8} {ratio:>7}  ({r['requests']} ok, {r['errors']} errors, {r['kb']} KB)"
        )
    h = figures["head_of_line"]
    print(
        f"head of line: patient reads {h['reads_during_rps']} req/s while {h['slowest']} runs, "
        f"{h['reads_alone_rps']} alone (ratio {h['ratio']})"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(database: str, data_dir: Path, workers: int = 1) -> Iterator[str]:
    """`mesoclinic serve [--workers N]` on the database, until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "MESOCLINIC_DATABASE_URL": database,
        "MESOCLINIC_DATA_DIR": str(data_dir),
        "MESOCLINIC_COOKIE_SECURE": "false",
    }
    command = [sys.executable, "-m", "mesoclinic.cli", "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # start-up runs pending migrations
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server exited: {(data_dir / 'server.log').read_text()}")
            try:
                if Connection(base, None).get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("the server did not start within 900 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still finishing a slow request: stop it
            process.kill()
            process.wait()
        log.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    where.add_argument("--database", help="start `mesoclinic serve` on this database URL")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--seconds", type=float, default=None, help="per endpoint (10; with --quick 1)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="with --database: `serve --workers N` processes"
    )
    parser.add_argument("--quick", action="store_true", help="tiny group, 1 s per endpoint")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.now()
    # On a shared machine the other processes set most of the wall time: say how busy it was.
    load_before = [round(x, 2) for x in os.getloadavg()]
    if args.url:
        figures = measure(args.url, args.connections, args.seconds or 10.0)
    else:
        with tempfile.TemporaryDirectory(prefix="mc-load-") as tmp:
            database = args.database
            if args.quick:
                database = database or f"sqlite:///{tmp}/quick.db"
                subprocess.run(
                    [
                        sys.executable,
                        str(BENCH / "scale_data.py"),
                        "--patients",
                        "120",
                        "--database",
                        database,
                        "--data-dir",
                        tmp,
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            if not database:
                raise SystemExit("give --url, --database or --quick")
            seconds = args.seconds or (1.0 if args.quick else 10.0)
            connections = min(args.connections, 4) if args.quick else args.connections
            with server(database, Path(tmp), args.workers) as base:
                figures = measure(base, connections, seconds)
            figures["workers"] = args.workers
    figures["started"] = started.isoformat(timespec="seconds")
    figures["load_average_before"] = load_before
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print_table(figures)
    print(json.dumps(figures))
    if statistics.fmean(r["errors"] for r in figures["endpoints"]) > 0:
        print("some requests failed (see errors above)", file=sys.stderr)


if __name__ == "__main__":
    main()
