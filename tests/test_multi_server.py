"""Two servers and two job workers share one PostgreSQL and nothing else but the data folder.

Server A runs as `mesoclinic serve --workers 2` (two processes behind one port), server B as a
plain `mesoclinic serve`, plus two `mesoclinic worker` processes. One clinician's whole visit
flow alternates between the servers: sign in on A, register the patient on B (with A's session
cookie and CSRF token), consents and the assessment on A, the plan on B, the visit on A, an
image on B whose count one of the workers completes, read back on A. Sessions, CSRF, login
lock-outs and job leases therefore live in the database or in configured secrets, not in any
one process.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from mesoclinic.imaging.results import ALGORITHM_VERSION
from mesoclinic.imaging.synthetic import SyntheticHair, draw_trichoscopy
from mesoclinic.outcomes.models import AnalysisJob
from stock_support import stock_clinic, visit_body
from support import TEST_PASSWORD, csrf_from

# Five processes import every area on a shared 2-core machine: minutes, not seconds.
pytestmark = [pytest.mark.committed, pytest.mark.postgres_only, pytest.mark.timeout(900)]

SRC = str(Path(__file__).resolve().parents[1] / "src")
START_SECONDS = 480  # the shared test machine is slow to import every area
MAIN = "from mesoclinic.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(db: Any, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "MESOCLINIC_DATABASE_URL": db.url,
        "MESOCLINIC_DATA_DIR": str(data_dir),
        "MESOCLINIC_SECRET_KEY": "shared-test-secret-" + "y" * 40,
        "MESOCLINIC_COOKIE_SECURE": "false",
        "MESOCLINIC_ENVIRONMENT": "test",
    }


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([sys.executable, "-c", MAIN, *args], env=env, stdout=out, stderr=out)


def _wait_until_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not start: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def servers(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Servers A (two processes) and B, and two workers, on the session's PostgreSQL, started
    once for the module's tests (their state is in the database, emptied between tests, and in
    the shared configuration: a server keeps nothing of one test for the next)."""
    if database.dialect != "postgresql":
        pytest.skip("several servers share a PostgreSQL database")
    tmp_path = tmp_path_factory.mktemp("group")
    env = _env(database, tmp_path / "data")
    ports = {"a": _free_port(), "b": _free_port()}
    procs = {
        "a": _start(
            ["serve", "--port", str(ports["a"]), "--workers", "2"], env, tmp_path / "a.log"
        ),
        "b": _start(["serve", "--port", str(ports["b"])], env, tmp_path / "b.log"),
        "w1": _start(["worker", "--poll-seconds", "0.3"], env, tmp_path / "w1.log"),
        "w2": _start(["worker", "--poll-seconds", "0.3"], env, tmp_path / "w2.log"),
    }
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for name, url in urls.items():
            _wait_until_ready(url, procs[name], tmp_path / f"{name}.log")
        yield {"urls": urls, "procs": procs, "logs": tmp_path}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def group(db: Any, servers: dict[str, Any]) -> dict[str, Any]:
    """The servers, for a test whose database is emptied afterwards (`committed`)."""
    return servers


def _stock(world: Any) -> tuple[str, str]:
    """A cocktail and a lot of it in clinic A (the formulary is not under test here)."""
    made = stock_clinic(world, consented=())
    return str(made.vitamin_cocktail.id), str(made.vitamin_lot.id)


def _jpeg() -> bytes:
    hairs = [SyntheticHair(120 + 90 * i, 150 + 40 * (i % 3), 315.0, 90, 12) for i in range(5)]
    buffer = io.BytesIO()
    Image.fromarray(draw_trichoscopy(hairs, size=(640, 512))).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text[:500]}"
    return response.json() if "json" in response.headers.get("content-type", "") else None


def test_a_visit_flow_alternating_between_two_servers_and_two_workers(world, group):
    urls = group["urls"]
    cocktail_id, lot_id = _stock(world)
    # Sign in on A through the login form.
    a = httpx.Client(base_url=urls["a"], timeout=60, follow_redirects=False)
    login = a.get("/login")
    signed_in = a.post(
        "/login",
        data={
            "username": world.users["clinician"].username,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_from(login.text),
        },
    )
    assert signed_in.status_code == 303, signed_in.text
    csrf = csrf_from(a.get("/patients/new").text)  # the form token A made for this session
    # B knows the session (stored) and accepts A's CSRF token (a configured, shared secret).
    b = httpx.Client(base_url=urls["b"], timeout=60, cookies=a.cookies)
    for client in (a, b):
        client.headers["X-CSRF-Token"] = csrf
    patient = _ok(
        b.post(
            "/api/v1/patients",
            json={
                "given_name": "Lena",
                "family_name": "Group",
                "birth_date": "1984-03-02",
                "sex": "female",
            },
        ),
        201,
    )
    base = f"/api/v1/patients/{patient['id']}"
    signed_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for procedure, client in (("mesotherapy", a), ("prp", a)):
        body = {"procedure": procedure, "signed_by": "Lena Group", "signed_at": signed_at}
        _ok(client.post(f"{base}/consents", json=body), 201)
    assessment = _ok(
        a.post(
            f"{base}/assessments",
            json={
                "diagnosis": "female_pattern_hair_loss",
                "staging": {"scale": "ludwig", "grade": "I"},
            },
        ),
        201,
    )
    assert not assessment["decision"]["blocked"], assessment
    start = date.today() + timedelta(days=7)
    plan = _ok(
        b.post(f"{base}/plans", json={"protocol_code": "meso-prp", "start_date": str(start)}),
        201,
    )
    visit = _ok(
        a.post(
            "/api/v1/visits",
            json=visit_body(patient["id"], cocktail_id, lot_id, zones=["vertex"], pain_score=2),
        ),
        201,
    )
    assert _ok(b.get(f"/api/v1/visits/{visit['id']}"))["id"] == visit["id"]
    assert _ok(a.get(f"/api/v1/plans/{plan['id']}"))["id"] == plan["id"]
    images = _ok(
        b.post(
            f"{base}/images",
            data={"kind": "trichoscopy"},
            files=[("file", ("scalp.jpg", _jpeg(), "image/jpeg"))],
        ),
        201,
    )
    image_id = images[0]["id"]
    deadline = time.monotonic() + START_SECONDS
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = _ok(a.get(f"/api/v1/images/{image_id}/analysis"))
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "done", status
    assert status["analysis"]["result"]
    assert status["analysis"]["algorithm_version"] == ALGORITHM_VERSION
    worker_pids = {str(group["procs"][w].pid) for w in ("w1", "w2")}
    with world.db.factory() as s:
        job = s.execute(select(AnalysisJob).where(AnalysisJob.image_id == image_id)).scalar_one()
    assert job.leased_by is not None and job.leased_by.split(":")[1] in worker_pids
    # Signing out on B ends the session on A too.
    assert b.post("/logout").status_code in (200, 303)
    assert a.get("/api/v1/patients").status_code == 401


def test_login_failures_on_either_server_count_towards_one_lock_out(world, group):
    urls = group["urls"]
    answers = []
    for attempt in range(6):
        server = urls["a" if attempt % 2 == 0 else "b"]
        r = httpx.post(
            f"{server}/api/v1/auth/token",
            json={"username": world.users["nurse"].username, "password": "wrong-password-x"},
            timeout=60,
        )
        answers.append(r.status_code)
    assert answers[:5] == [401] * 5
    assert answers[5] == 429  # five failures across both servers lock the name on both
    good = {"username": world.users["nurse"].username, "password": TEST_PASSWORD}
    assert httpx.post(f"{urls['a']}/api/v1/auth/token", json=good, timeout=60).status_code == 429
