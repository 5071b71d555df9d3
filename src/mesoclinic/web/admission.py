"""Admission: one server process serves a bounded number of requests at once; the rest queue.

Without a bound, a burst of requests each takes a worker thread and a pooled connection and
then waits inside the database (SQLite's busy handler polls for the write lock) or for the pool,
until one of those waits runs out and the request fails with a 500 ("database is locked",
"QueuePool limit ... reached"). Here a request first waits for a slot, in arrival order, holding
nothing: no thread, no connection, no lock. Requests with unsafe methods also wait for a write
slot (one on SQLite, whose writers take turns anyway). A request that waits longer than the
queue allows, or arrives when the queue is full, is answered by `shed` (503 with Retry-After)
before any of its work has started, so nothing of it is stored.

`Gate` is a FIFO counting semaphore usable from any event loop and thread: tests drive the
app from several TestClient loops at once, which an `asyncio.Semaphore` (bound to one loop)
refuses.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

EXEMPT_PREFIXES = ("/static/", "/healthz")  # no database work, or a load balancer's probe
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Shed = Callable[[Scope, Receive, Send], Awaitable[None]]


class Gate:
    """At most `slots` holders at once; waiters are let in first come, first served."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._lock = threading.Lock()

    @property
    def queued(self) -> int:
        return len(self._waiters)

    async def acquire(self, timeout_s: float) -> bool:
        """Take a slot, waiting at most `timeout_s`; False when the wait ran out."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            waiter: asyncio.Future[None] = loop.create_future()
            entry = (loop, waiter)
            self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout_s):
                await waiter
            return True
        except BaseException as exc:  # timed out or cancelled: leave the queue
            with self._lock:
                still_queued = entry in self._waiters
                if still_queued:
                    self._waiters.remove(entry)
            if not still_queued:  # a slot was handed over while the wait ended: pass it on
                self.release()
            if isinstance(exc, TimeoutError):
                return False
            raise

    def release(self) -> None:
        """Give the slot back, straight to the longest waiter if there is one."""
        with self._lock:
            if not self._waiters:
                self._free += 1
                return
            loop, waiter = self._waiters.popleft()
        try:
            loop.call_soon_threadsafe(_grant, waiter)
        except RuntimeError:  # that waiter's loop has closed: it is gone, pass the slot on
            self.release()


def _grant(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Admission:
    """Pure ASGI middleware admitting `slots` requests at once (`write_slots` of them unsafe)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        slots: int,
        write_slots: int,
        queue_seconds: float,
        max_queued: int,
        shed: Shed,
    ) -> None:
        self.app = app
        self.requests = Gate(slots)
        self.writes = Gate(write_slots)
        self.queue_seconds = queue_seconds
        self.max_queued = max_queued
        self.shed = shed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        gates = [self.writes] if scope["method"] in UNSAFE_METHODS else []
        gates.append(self.requests)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.queue_seconds
        held: list[Gate] = []
        try:
            for gate in gates:
                if gate.queued >= self.max_queued:
                    break
                if not await gate.acquire(max(0.0, deadline - loop.time())):
                    break
                held.append(gate)
            if len(held) < len(gates):
                await self.shed(scope, receive, send)
                return
            await self.app(scope, receive, send)
        finally:
            for gate in reversed(held):
                gate.release()
