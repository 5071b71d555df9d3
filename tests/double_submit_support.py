"""Helpers for racing double submits against a live server (forms and Idempotency-Key)."""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from support import TEST_PASSWORD, csrf_from

RACERS = 6


def race(send: Any) -> list[httpx.Response]:
    """Call `send()` from RACERS threads released at the same moment."""
    barrier = threading.Barrier(RACERS)
    results: list[Any] = [None] * RACERS

    def run(i: int) -> None:
        barrier.wait()
        results[i] = send()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    return results


def browser_client(world: Any, live: Any, persona: str) -> httpx.Client:
    client = httpx.Client(base_url=live.url, timeout=60, follow_redirects=False)
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": world.users[persona].username,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 303, r.text
    return client


def form_post(world: Any, live: Any, persona: str, page_url: str, post_url: str, fields: Any):
    """Post one rendered form (same CSRF and one-time token) from RACERS threads at once."""
    browser = browser_client(world, live, persona)
    page = browser.get(page_url).text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    data = {"csrf_token": csrf_from(page), "form_token": token.group(1), **fields}
    cookies = dict(browser.cookies)

    def send() -> httpx.Response:
        with httpx.Client(base_url=live.url, timeout=60, cookies=cookies) as c:
            return c.post(post_url, data=data)

    return race(send)


def api_post(world: Any, live: Any, persona: str, url: str, body: Any) -> list[httpx.Response]:
    headers = {
        "Authorization": f"Bearer {world.tokens[persona]}",
        "Idempotency-Key": str(uuid.uuid4()),
    }

    def send() -> httpx.Response:
        return httpx.post(f"{live.url}{url}", json=body, headers=headers, timeout=60)

    return race(send)


def count(world: Any, model: Any, *where: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def one_redirect(results: list[httpx.Response]) -> None:
    assert [r.status_code for r in results] == [303] * RACERS, [r.text[:200] for r in results]
    assert len({r.headers["location"] for r in results}) == 1


def one_created(results: list[httpx.Response]) -> dict[str, Any]:
    assert [r.status_code for r in results] == [201] * RACERS, [r.text[:200] for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in results) == RACERS - 1
    first: dict[str, Any] = results[0].json()
    return first
