"""Start-up times of the `mesoclinic` command, median of N runs (issue 18, item 6).

Prints:
- `mesoclinic --help`: wall time of the whole process, from exec to exit.
- `mesoclinic serve`: wall time from exec until `GET /healthz` answers 200, on an embedded SQLite
  database already migrated (a first, untimed start creates and migrates it), so the figure is
  a restart's, the one a clinic waits for after an upgrade or a crash.
- bare `python -c pass` in the same run, as the floor of this machine at this moment.
Bytecode is written and reused (PYTHONDONTWRITEBYTECODE is dropped for the children), as in an
installed package: the first, untimed runs compile the sources, the timed ones only load them.
Also the CPU seconds (user + system) of each, which a busy shared machine disturbs less than
wall time. Targets (issue 18): `--help` < 0.5 s, `serve` ready < 1.5 s.

    .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
MESOCLINIC = str(BIN / "mesoclinic")


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process run to completion."""
    cpu = _cpu_of_children()
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu_of_children() - cpu


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def timed_serve(env: dict[str, str], limit_s: float = 120) -> tuple[float, float]:
    """(wall seconds until /healthz answers, CPU seconds the server spent until then)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    start = time.perf_counter()
    server = subprocess.Popen(
        [MESOCLINIC, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _healthy(url):
            if server.poll() is not None:
                raise RuntimeError(f"serve exited with {server.returncode}")
            if time.perf_counter() - start > limit_s:
                raise RuntimeError("serve did not become ready")
            time.sleep(0.01)
        ready = time.perf_counter() - start
        with open(f"/proc/{server.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return ready, cpu
    finally:
        server.terminate()
        server.wait(30)


def report(name: str, runs: list[tuple[float, float]], target: float | None) -> None:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    goal = f"  (target < {target:.1f} s)" if target else ""
    print(f"{name:<28} wall {wall:6.3f} s   CPU {cpu:6.3f} s   median of {len(runs)}{goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="mc-startup-"))
    env = {
        **os.environ,
        "MESOCLINIC_DATA_DIR": str(data),
        "MESOCLINIC_COOKIE_SECURE": "false",
    }
    env.pop("MESOCLINIC_DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package runs from its bytecode
    try:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
        report(
            "python -c pass",
            [timed_run([sys.executable, "-c", "pass"], env) for _ in range(args.runs)],
            None,
        )
        timed_run([MESOCLINIC, "--help"], env)  # writes the bytecode: not counted
        report(
            "mesoclinic --help",
            [timed_run([MESOCLINIC, "--help"], env) for _ in range(args.runs)],
            0.5,
        )
        timed_serve(env)  # creates and migrates the database: not counted
        report("mesoclinic serve (ready)", [timed_serve(env) for _ in range(args.runs)], 1.5)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
