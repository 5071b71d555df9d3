"""Overload is not an error: a burst of writes is queued or shed with 503, never answered 500.

A live Uvicorn server takes 100 concurrent patient creates. Every answer is 201 or 503 (with
Retry-After); every 201 is stored and nothing of a 503 is.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

# a live server, which sees only committed data
pytestmark = pytest.mark.committed

BURST = 100


def test_a_burst_of_concurrent_writes_is_never_a_500_and_loses_nothing(world, live_server):
    token = world.tokens["reception"]

    def register(i: int) -> tuple[str, int, str | None]:
        name = f"Burst{i:03d}"
        r = httpx.post(
            f"{live_server.url}/api/v1/patients",
            timeout=120,
            headers={"Authorization": f"Bearer {token}"},
            json={
                "given_name": name,
                "family_name": "Overload",
                "birth_date": "1990-01-01",
                "sex": "unknown",
            },
        )
        return name, r.status_code, r.headers.get("retry-after")

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(pool.map(register, range(BURST)))
    statuses = sorted({status for _, status, _ in answers})
    assert set(statuses) <= {201, 503}, statuses
    assert all(retry for _, status, retry in answers if status == 503)
    created = {name for name, status, _ in answers if status == 201}
    stored = set()
    client = world.client("reception")
    offset = 0
    while True:
        page = client.get(
            "/api/v1/patients", params={"q": "overload", "limit": 100, "offset": offset}
        ).json()
        stored |= {p["given_name"] for p in page["items"]}
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    assert stored == created
    assert len(created) > 0
