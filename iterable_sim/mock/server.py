"""The HTTP adapter: an ASGI app in front of `MockIterable.handle`, served by uvicorn.

`run(mock, host, port)` serves in the foreground (the CLI's `iterable-sim serve`);
`BackgroundServer` (behind `mock.serve()`) serves on a free port in a daemon thread for tests.
A request whose Host header is api.eu.iterable.com reaches the EU project; any other host reaches
`default_data_center`. A "drop" fault closes the connection part-way through the answer. Every path
reaches the mock as it was sent (no router in front: an encoded newline in a path parameter gets
the same answer as in-process).
"""
from __future__ import annotations

import gc
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Callable

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import HOSTS

if TYPE_CHECKING:
    from iterable_sim.mock.contract import Served


class ConnectionDropped(IterableSimError):
    """Raised mid-answer so that uvicorn closes the connection: the client sees it drop."""


class MockServerError(IterableSimError, RuntimeError):
    """The mock's HTTP server did not start (within 10 seconds, or its thread ended)."""


class _DroppedResponse(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
        raise ConnectionDropped("fault injected: connection dropped")


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_HIDE_DROPPED = _HideDroppedConnections()


FREEZE_EVERY = 1000


def create_app(mock: Served, default_data_center: str = "US", *, freeze_gc: bool = False) -> ASGIApp:
    """The mock as an ASGI app. `freeze_gc` is for a process that only serves the mock (see below)."""
    served = 0

    async def endpoint(request: Request) -> Response:
        nonlocal served
        served += 1
        if freeze_gc and served % FREEZE_EVERY == 0:
            # The mock's state only grows; moving it out of the collector's sight keeps full
            # collections (tens of ms once it holds 100,000 events) out of the latency tail. It
            # freezes the whole process, hence only where the process serves nothing else.
            gc.freeze()
        body = await request.body()
        scope = request.scope
        server_host, server_port = scope.get("server") or ("127.0.0.1", 80)
        url = f"http://{server_host}:{server_port}{scope.get('raw_path', b'').decode('latin-1') or scope['path']}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        host = request.headers.get("host", "").rsplit(":", 1)[0].lower()
        answer = mock.handle(request.method, url, request.headers, body,
                             client=request.client.host if request.client else "127.0.0.1",
                             default_data_center=HOSTS.get(host, default_data_center))
        if answer.delay > 0:
            await mock.clock.asleep(answer.delay)
        if answer.dropped:
            return _DroppedResponse()
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":  # served with lifespan="off": no other scope type arrives
            response = await endpoint(Request(scope, receive))
            await response(scope, receive, send)

    return app


def _config(mock: Served, host: str, port: int, default_data_center: str, log_level: str,
            freeze_gc: bool = False) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_HIDE_DROPPED)
    return uvicorn.Config(create_app(mock, default_data_center, freeze_gc=freeze_gc), host=host, port=port, log_level=log_level,
                          access_log=False, lifespan="off")


def _listening_socket(host: str, port: int) -> socket.socket:
    """A bound socket with TCP_NODELAY, which accepted connections inherit: without it, an answer
    written as headers then body waits ~40 ms on delayed ACKs."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def run(mock: Served, host: str = "127.0.0.1", port: int = 8000, *, default_data_center: str = "US",
        log_level: str = "info", on_listening: Callable[[], None] | None = None) -> None:
    """Serve `mock` on http://host:port until interrupted (Ctrl-C). `on_listening` is called once the server
    answers, and has taken over Ctrl-C: a Ctrl-C from then on stops it cleanly (one given earlier, while
    Python is still importing and collecting, can land in a finaliser, which swallows it)."""
    with _listening_socket(host, port) as sock:
        _Server(_config(mock, host, port, default_data_center, log_level, freeze_gc=True), on_listening).run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server, calling `on_listening` when its startup is done (its signal handlers are in place by then)."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_listening is not None:
            self._on_listening()


class BackgroundServer:
    """`with BackgroundServer(mock) as url:` serves the mock on a free port in a daemon thread."""

    def __init__(self, mock: Served, host: str = "127.0.0.1", port: int = 0, *,
                 default_data_center: str = "US", log_level: str = "warning", freeze_gc: bool = False) -> None:
        self._sock = _listening_socket(host, port)
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(_config(mock, host, port, default_data_center, log_level, freeze_gc))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="mock-iterable-server", daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise MockServerError("the mock Iterable server did not start")
            time.sleep(0.01)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
