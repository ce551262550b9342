"""Serving the HTTP endpoints to clients that may be hostile: bounded connections, a quiet log.

aiohttp reads a request head for as long as the client takes and accepts every
connection. `ConnectionGuard` sits between the event loop and aiohttp's protocol:
a connection must complete a request head within `header_timeout_s` of opening
(or of its previous response) or it is closed, as Go's `ReadHeaderTimeout` does;
and at `max_connections` open, a new connection closes the one that has been
waiting longest for its head (idle or trickling) instead of being turned away,
so a flood of idle or slow clients cannot keep Prometheus out. A request being
served is never closed: the handlers are short.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from slotail.log import Throttle

logger = logging.getLogger("slotail.http")
BAD_REQUEST_ERROR_CHARS = 200  # of the parser's message, which quotes the client's bytes


@dataclass(frozen=True)
class Limits:
    """What clients may hold of the HTTP server."""

    header_timeout_s: float = 5.0  # to send a request head (and do a TLS handshake), from connect or response
    max_connections: int = 512  # open at once


class _Guarded(asyncio.Protocol):
    """One connection: aiohttp's protocol for it, watched by the guard."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard, self.inner = guard, inner
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream's (uvloop's are not subclasses)
        self.inner.connection_made(transport)
        self.guard.opened(self)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.closed(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class ConnectionGuard:
    """Closes connections that take too long to send a request head, and the longest-waiting one when
    too many are open. `middleware()` tells it when a request is being served."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._open: set[_Guarded] = set()
        self._waiting: dict[_Guarded, None] = {}  # waiting for a request head, longest first
        self._by_protocol: dict[asyncio.Protocol, _Guarded] = {}  # aiohttp's protocol -> its connection
        self._over = Throttle()

    def protocol_factory(self, inner: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `loop.create_server` wrapping each of `inner`'s protocols."""
        return lambda: _Guarded(self, inner())

    def middleware(self) -> Middleware:
        """An aiohttp middleware marking a connection as served (no deadline) while its handler runs; put
        it after basic auth, so that a request waiting to be authenticated is still on the clock."""

        @web.middleware
        async def serving(request: web.Request, handler: Handler) -> web.StreamResponse:
            conn = self._by_protocol.get(request.protocol)
            if conn is not None:
                self._stop_waiting(conn)
            try:
                return await handler(request)
            finally:
                if conn is not None:
                    self._wait(conn)

        return serving

    @property
    def open(self) -> int:
        """Connections open now."""
        return len(self._open)

    def opened(self, conn: _Guarded) -> None:
        """A new connection: admitted, at the cap in place of the longest-waiting one, or refused."""
        if len(self._open) >= self.limits.max_connections:
            victim = next(iter(self._waiting), conn)  # every open one being served: refuse the new one
            self._close(victim)
            if (left_out := self._over.allow()) is not None:
                logger.warning(
                    "too many HTTP connections: closing the longest idle (--http-max-connections)",
                    extra={"max_connections": self.limits.max_connections, "closed": left_out + 1},
                )
            if victim is conn:
                return
        self._open.add(conn)
        self._by_protocol[conn.inner] = conn
        self._wait(conn)

    def closed(self, conn: _Guarded) -> None:
        """A connection gone (by either side); no-op the second time."""
        self._stop_waiting(conn)
        self._open.discard(conn)
        self._by_protocol.pop(conn.inner, None)

    def _wait(self, conn: _Guarded) -> None:
        """`conn` must complete a request head within the timeout from now."""
        if conn not in self._open:
            return
        loop = asyncio.get_running_loop()
        conn.deadline = loop.call_later(self.limits.header_timeout_s, self._close, conn)
        self._waiting[conn] = None

    def _stop_waiting(self, conn: _Guarded) -> None:
        self._waiting.pop(conn, None)
        if conn.deadline is not None:
            conn.deadline.cancel()
            conn.deadline = None

    def _close(self, conn: _Guarded) -> None:
        self.closed(conn)
        if conn.transport is not None:
            conn.transport.close()


@dataclass
class Serving:
    """A running HTTP server."""

    runner: web.AppRunner
    server: asyncio.AbstractServer
    guard: ConnectionGuard

    async def cleanup(self) -> None:
        self.server.close()
        await self.runner.cleanup()


async def serve(
    app: web.Application, guard: ConnectionGuard, host: str, port: int, tls: ssl.SSLContext | None
) -> Serving:
    """Serve `app` (whose middlewares end with `guard.middleware()`) on host:port; raises OSError."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None  # set up
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(
            guard.protocol_factory(runner.server),
            host,
            port,
            ssl=tls,
            ssl_handshake_timeout=guard.limits.header_timeout_s if tls is not None else None,
            backlog=guard.limits.max_connections,  # a flood not yet accepted does not drop a scrape's SYN
        )
    except OSError:
        await runner.cleanup()
        raise
    return Serving(runner, server, guard)


class BadRequests(logging.Filter):
    """On aiohttp's server logger: a request it could not parse (garbage, TLS to the plain port, a line
    over its limit) is the client's doing, not a fault of ours. It becomes one warning line without a
    traceback, at most one every `throttle.every_s` seconds, which counts the ones left out since."""

    def __init__(self, throttle: Throttle | None = None) -> None:
        super().__init__()
        self.throttle = throttle if throttle is not None else Throttle()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True  # a handler's exception: our bug, logged in full
        left_out = self.throttle.allow()
        if left_out is None:
            return False
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
        record.msg, record.args, record.exc_info, record.exc_text = "bad HTTP request", (), None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.error = " ".join(str(exc).split())[:BAD_REQUEST_ERROR_CHARS]
        record.remote, record.suppressed = remote, left_out
        return True


def quiet_bad_requests() -> None:
    """Put `BadRequests` on aiohttp's server logger (once), which lets every record through to it: aiohttp
    logs some bad requests (a first request that is not HTTP at all) at debug level."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, BadRequests) for f in server.filters):
        server.addFilter(BadRequests())
    server.setLevel(logging.DEBUG)  # the handler's level (slotail.log.setup) still applies after the filter
