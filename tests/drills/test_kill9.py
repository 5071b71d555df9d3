"""Drill kept in the suite (issue 16): every create the server acknowledged survives a SIGKILL of
the server process, on both databases (a real `mesoclinic serve` process, not a thread)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mesoclinic.patients.models import Patient

pytestmark = pytest.mark.committed  # a server process sees only committed data

SRC = str(Path(__file__).resolve().parents[2] / "src")
LOG_HINT = " (its stderr is server.log in the test's data folder)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(db: Any, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": SRC,
            "MESOCLINIC_DATABASE_URL": db.url,
            "MESOCLINIC_DATA_DIR": str(data_dir),
            "MESOCLINIC_SECRET_KEY": "test-secret-" + "x" * 40,
            "MESOCLINIC_ENVIRONMENT": "test",
        }
    )
    command = [sys.executable, "-c", "from mesoclinic.cli import main; main()"]
    return subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("wb"),
    )


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # a loaded 2-core machine starts it slowly
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited" + LOG_HINT
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start" + LOG_HINT)


def test_acknowledged_creates_survive_sigkill_of_the_server(world, db, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(db, tmp_path, port)
    acknowledged: list[str] = []
    stop = threading.Event()

    def register() -> None:
        headers = {"Authorization": f"Bearer {world.tokens['reception']}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                body = {
                    "given_name": f"Kill{n}",
                    "family_name": "Drill",
                    "birth_date": "1980-01-01",
                    "sex": "female",
                }
                try:
                    r = client.post("/api/v1/patients", json=body)
                except httpx.HTTPError:
                    return  # the server is gone: this request was never acknowledged
                if r.status_code == 201:
                    acknowledged.append(r.json()["id"])

    try:
        _wait_until_up(url, server)
        writer = threading.Thread(target=register)
        writer.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)  # mid-stream: a request is likely in flight
        server.wait(timeout=30)
        stop.set()
        writer.join(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert len(acknowledged) >= 10
    with db.factory() as s:
        stored = {
            str(i)
            for i in s.execute(select(Patient.id).where(Patient.family_name == "Drill")).scalars()
        }
    assert set(acknowledged) <= stored
