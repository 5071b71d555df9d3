"""The admission queue: a bounded number of requests at once, the rest wait in order, and a
wait past the queue time (or a full queue) is answered by `shed` before any work starts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from mesoclinic.web.admission import Admission, Gate


class SlowApp:
    """An ASGI app that records each request and holds it until `release` is set."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started.append(f"{scope['method']} {scope['path']}")
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


async def shed(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"retry-after", b"5")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": b"busy"})


def admitted(inner: SlowApp, **options: float) -> httpx.AsyncClient:
    settings = {"slots": 2, "write_slots": 1, "queue_seconds": 5.0, "max_queued": 100}
    settings.update(options)
    app = Admission(
        inner,
        slots=int(settings["slots"]),
        write_slots=int(settings["write_slots"]),
        queue_seconds=settings["queue_seconds"],
        max_queued=int(settings["max_queued"]),
        shed=shed,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def run_alone(scenario: Coroutine[Any, Any, Any]) -> Any:
    """Run a scenario on its own event loop in its own thread: another test in this process (a
    browser test's Playwright) may have left a loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_requests_past_the_slots_wait_and_are_let_in_first_come_first_served() -> None:
    async def scenario() -> list[int]:
        inner = SlowApp()
        async with admitted(inner, slots=2, write_slots=2) as client:
            calls = []
            for path in ["/a", "/b", "/c", "/d"]:
                calls.append(asyncio.create_task(client.get(path)))
                await settle()
            assert inner.started == ["GET /a", "GET /b"]
            inner.release.set()
            answers = await asyncio.gather(*calls)
        assert inner.started == ["GET /a", "GET /b", "GET /c", "GET /d"]
        return [a.status_code for a in answers]

    assert run_alone(scenario()) == [200, 200, 200, 200]


def test_a_wait_past_the_queue_time_is_shed_with_503_and_never_reaches_the_app() -> None:
    async def scenario() -> tuple[int, str | None, list[str]]:
        inner = SlowApp()
        async with admitted(inner, slots=1, queue_seconds=0.05) as client:
            first = asyncio.create_task(client.get("/slow"))
            await settle()
            second = await client.post("/patients")
            inner.release.set()
            assert (await first).status_code == 200
        return second.status_code, second.headers.get("retry-after"), inner.started

    status, retry_after, started = run_alone(scenario())
    assert (status, retry_after) == (503, "5")
    assert started == ["GET /slow"]


def test_a_full_queue_sheds_at_once() -> None:
    async def scenario() -> list[int]:
        inner = SlowApp()
        async with admitted(inner, slots=1, max_queued=1, queue_seconds=30) as client:
            holder = asyncio.create_task(client.get("/one"))
            await settle()
            waiting = asyncio.create_task(client.get("/two"))
            await settle()
            refused = await client.get("/three")  # the queue already holds /two
            inner.release.set()
            return [(await holder).status_code, (await waiting).status_code, refused.status_code]

    assert run_alone(scenario()) == [200, 200, 503]


def test_writes_take_turns_while_reads_go_past_them() -> None:
    async def scenario() -> list[str]:
        inner = SlowApp()
        async with admitted(inner, slots=4, write_slots=1) as client:
            calls = [asyncio.create_task(client.post("/w1"))]
            await settle()
            calls.append(asyncio.create_task(client.post("/w2")))
            await settle()
            calls.append(asyncio.create_task(client.get("/r1")))
            await settle()
            seen = list(inner.started)
            inner.release.set()
            await asyncio.gather(*calls)
        return seen

    assert run_alone(scenario()) == ["POST /w1", "GET /r1"]


def test_health_checks_and_static_files_are_never_queued() -> None:
    async def scenario() -> list[str]:
        inner = SlowApp()
        async with admitted(inner, slots=1, queue_seconds=0.05) as client:
            held = asyncio.create_task(client.get("/page"))
            await settle()
            probes = [asyncio.create_task(client.get(p)) for p in ["/healthz", "/static/app.css"]]
            await settle()
            seen = list(inner.started)
            inner.release.set()
            await asyncio.gather(held, *probes)
        return seen

    assert run_alone(scenario()) == ["GET /page", "GET /healthz", "GET /static/app.css"]


def test_a_gate_hands_slots_across_event_loops_in_other_threads() -> None:
    gate = Gate(1)
    order: list[str] = []
    holder_in = threading.Event()
    waiter_queued = threading.Event()

    def holder() -> None:
        async def run() -> None:
            assert await gate.acquire(5)
            order.append("holder")
            holder_in.set()
            while not waiter_queued.is_set():
                await asyncio.sleep(0.01)
            gate.release()

        run_alone(run())

    def waiter() -> None:
        async def run() -> None:
            holder_in.wait()
            task = asyncio.create_task(gate.acquire(5))
            while gate.queued == 0:
                await asyncio.sleep(0.001)
            waiter_queued.set()
            assert await task
            order.append("waiter")
            gate.release()

        run_alone(run())

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["holder", "waiter"]
    assert gate.queued == 0


def test_a_timed_out_waiter_leaves_the_queue_and_the_slot_is_not_lost() -> None:
    async def scenario() -> bool:
        gate = Gate(1)
        assert await gate.acquire(1)
        assert not await gate.acquire(0.01)
        assert gate.queued == 0
        gate.release()
        return await gate.acquire(0.01)

    assert run_alone(scenario())
