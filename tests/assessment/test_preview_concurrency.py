"""Overlapping preview requests (as the live form sends them) all complete on a real server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from support import TEST_PASSWORD, csrf_from

# a live server, which sees only committed data
pytestmark = pytest.mark.committed


def _signed_in(url: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=20)
    page = client.get("/login")
    token = csrf_from(page.text)
    r = client.post(
        "/login", data={"username": username, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 303, r.text
    form = client.get("/patients")
    return client, csrf_from(form.text)


def test_overlapping_previews_do_not_block_each_other(world: Any, live_server: Any) -> None:
    client, token = _signed_in(live_server.url, world.users["clinician"].username)
    path = f"/patients/{world.patient_a.id}/assessments/preview"
    body = {"csrf_token": token, "diagnosis": "telogen_effluvium"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: client.post(path, data=body).status_code, range(16)))
    client.close()
    assert codes == [200] * 16
