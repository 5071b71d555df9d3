"""One real Uvicorn process serves overlapping writes without stalling.

Regression: database work in an async dependency blocked the event loop, so a request waiting
for SQLite's write lock stopped the lock holder from finishing (until the busy timeout).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

# a live server, which sees only committed data
pytestmark = pytest.mark.committed


def test_twenty_overlapping_writes_all_succeed(world, live_server):
    token = world.tokens["reception"]

    def register(i: int) -> int:
        r = httpx.post(
            f"{live_server.url}/api/v1/patients",
            timeout=20,
            headers={"Authorization": f"Bearer {token}"},
            json={
                "given_name": f"Load{i}",
                "family_name": "Test",
                "birth_date": "1990-01-01",
                "sex": "unknown",
            },
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(register, range(20)))
    assert statuses == [201] * 20
    listed = world.client("reception").get("/api/v1/patients", params={"q": "test"}).json()
    assert listed["total"] == 20
    numbers = {p["record_number"] for p in listed["items"]}
    assert len(numbers) == len(listed["items"])
