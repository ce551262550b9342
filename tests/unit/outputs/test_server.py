"""What HTTP clients may hold of the sidecar, and what their bad requests write to its log.

A real aiohttp server on 127.0.0.1 behind the `ConnectionGuard`, with short limits,
raw connections to it, on asyncio's loop and on uvloop's (which the sidecar runs on).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import pytest
import uvloop
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong

from slotail.log import Throttle
from slotail.outputs.server import BadRequests, ConnectionGuard, Limits, Serving, serve

TIMEOUT_S = 0.5
CAP = 3
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
SLOW = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
Reader = asyncio.StreamReader


class Server:
    """A guarded server whose `/` answers at once and `/slow` after 3 header timeouts."""

    def __init__(self, serving: Serving) -> None:
        self.serving = serving
        self.port = serving.server.sockets[0].getsockname()[1]
        self.clients: list[asyncio.StreamWriter] = []

    async def connect(self) -> tuple[Reader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.clients.append(writer)
        return reader, writer

    async def close(self) -> None:
        for writer in self.clients:
            writer.close()
        await self.serving.cleanup()


async def start() -> Server:
    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3 * TIMEOUT_S)
        return web.Response(text="slow")

    guard = ConnectionGuard(Limits(header_timeout_s=TIMEOUT_S, max_connections=CAP))
    app = web.Application(middlewares=[guard.middleware()])
    app.router.add_get("/", fast)
    app.router.add_get("/slow", slow)
    return Server(await serve(app, guard, "127.0.0.1", 0, None))


Scenario = Callable[[Server], Awaitable[None]]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    """Runs a scenario against a fresh server on one loop or the other."""

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            server = await start()
            try:
                await scenario(server)
            finally:
                await server.close()

        (uvloop.run if request.param == "uvloop" else asyncio.run)(main())

    return run


async def response(reader: Reader) -> bytes:
    """One response's head and body (the bodies here are short and sized)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    sized = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return head + await asyncio.wait_for(reader.readexactly(int(sized.split(b":")[1])), 5)


async def closed_after(reader: Reader, limit_s: float = 5.0) -> float:
    """Seconds until the server closes the connection (fails if it does not within `limit_s`)."""
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), limit_s) == b""
    return time.monotonic() - started


async def trickle(writer: asyncio.StreamWriter) -> None:
    """A header byte every 50 ms, for ever."""
    while True:
        writer.write(b"a")
        await asyncio.sleep(0.05)


def test_a_connection_that_does_not_complete_a_request_head_in_time_is_closed(run) -> None:
    """Idle, or trickling a header a byte at a time: closed once the header timeout has passed."""

    async def scenario(server: Server) -> None:
        idle, _ = await server.connect()
        slow, writer = await server.connect()
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        trickling = asyncio.create_task(trickle(writer))
        assert TIMEOUT_S * 0.8 <= await closed_after(slow) <= TIMEOUT_S + 2
        trickling.cancel()
        await closed_after(idle, 1)

    run(scenario)


def test_a_kept_alive_connection_has_the_timeout_from_its_last_response(run) -> None:
    """Requests on one connection each within the timeout of the previous response are all served; once
    one is late, the connection is closed."""

    async def scenario(server: Server) -> None:
        reader, writer = await server.connect()
        for _ in range(4):
            writer.write(REQUEST)
            assert (await response(reader)).endswith(b"ok")
            await asyncio.sleep(TIMEOUT_S / 2)
        assert await closed_after(reader) <= TIMEOUT_S + 2

    run(scenario)


def test_a_request_being_served_is_not_cut_by_the_timeout(run) -> None:
    async def scenario(server: Server) -> None:
        reader, writer = await server.connect()
        writer.write(SLOW)
        assert (await response(reader)).endswith(b"slow")

    run(scenario)


def test_at_the_cap_a_new_connection_closes_the_longest_waiting_one(run) -> None:
    """As many idle connections open as the cap: one more closes the first, and is served."""

    async def scenario(server: Server) -> None:
        held = [await server.connect() for _ in range(CAP)]
        await asyncio.sleep(0.05)  # accepted, in that order
        reader, writer = await server.connect()
        await closed_after(held[0][0], TIMEOUT_S / 2)
        writer.write(REQUEST)
        assert (await response(reader)).endswith(b"ok")
        assert server.serving.guard.open == CAP
        assert not any(other.at_eof() for other, _ in held[1:])

    run(scenario)


def test_at_the_cap_with_every_connection_being_served_a_new_one_is_refused(run) -> None:
    """Requests being served hold the cap: one more connection is closed at once; they finish."""

    async def scenario(server: Server) -> None:
        busy = [await server.connect() for _ in range(CAP)]
        for _, writer in busy:
            writer.write(SLOW)
        await asyncio.sleep(TIMEOUT_S / 2)  # all in their handlers
        reader, _ = await server.connect()
        assert await closed_after(reader, TIMEOUT_S) < TIMEOUT_S
        for reader, _ in busy:
            assert (await response(reader)).endswith(b"slow")

    run(scenario)


# ---- a client's malformed request: one warning line, rate-limited -----------------------------


def bad_request_record(exc: BaseException, level: int = logging.ERROR) -> logging.LogRecord:
    """What aiohttp's server logs for a request it cannot parse (`log_exception` with the exception)."""
    record = logging.LogRecord(
        "aiohttp.server", level, "web_protocol.py", 1, "Error handling request from %s", ("10.0.0.7",), None
    )
    record.exc_info = (type(exc), exc, None)
    return record


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bad_requests_make_one_warning_without_traceback_per_interval_counting_the_rest() -> None:
    clock = Clock()
    bad = BadRequests(Throttle(every_s=10, clock=clock))
    first = bad_request_record(LineTooLong(b"a" * 100, 8190))
    assert bad.filter(first)
    assert (first.levelno, first.getMessage(), first.exc_info) == (logging.WARNING, "bad HTTP request", None)
    assert first.suppressed == 0 and first.remote == "10.0.0.7"  # type: ignore[attr-defined]
    assert "\n" not in first.error and "8190" in first.error  # type: ignore[attr-defined]

    for _ in range(99):
        clock.now += 0.1
        assert not bad.filter(bad_request_record(BadHttpMethod("\x16\x03\x01"), logging.DEBUG))
    clock.now = 10.0
    later = bad_request_record(BadHttpMessage("no colon"))
    assert bad.filter(later)
    assert later.suppressed == 99  # type: ignore[attr-defined]


def test_a_handler_error_is_not_a_bad_request_and_keeps_its_traceback() -> None:
    bad = BadRequests(Throttle(every_s=10, clock=Clock()))
    record = bad_request_record(RuntimeError("a bug of ours"))
    assert bad.filter(record)
    assert record.levelno == logging.ERROR and record.exc_info is not None
