"""`serve --workers N`: the listening socket handed to the workers says IPPROTO_TCP, so asyncio
sets TCP_NODELAY on every connection it accepts (uvicorn's `bind_socket` leaves `proto` at 0,
and each keep-alive response then waited ~40 ms for the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from mesoclinic.cli import tcp_listener


def _accepted_nodelay(listener: socket.socket) -> int:
    async def run() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    # A thread of its own: an earlier test of this process may have left a loop running here.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=30)


def test_the_workers_listening_socket_gives_connections_tcp_nodelay():
    bound = uvicorn.Config("mesoclinic.app:create_worker_app", port=0).bind_socket()
    listener = tcp_listener(bound)
    assert listener.proto == socket.IPPROTO_TCP
    assert _accepted_nodelay(listener) != 0
