"""HTTP endpoints of the sidecar: /metrics, /healthz, /readyz, /api/v1/slos and a status page."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST

from slotail.engine.snapshot import Snapshot
from slotail.outputs.document import document, dumps
from slotail.outputs.lookback import SLOLookback
from slotail.outputs.status import status_page
from slotail.pipeline import LineStats


@dataclass(frozen=True)
class Endpoints:
    """What the handlers read from the daemon."""

    metrics: Callable[[], bytes]  # the /metrics body (outputs.prometheus.MetricsBody)
    snapshot: Callable[[], Snapshot | None]
    lines: Callable[[], LineStats]
    ready: Callable[[], bool]
    recent: Callable[[], Mapping[str, SLOLookback]] = dict  # each SLO's last day, for the status page


BAD_REQUEST_LOG_EVERY_S = 10.0  # a client's malformed requests make one warning line in this long at most
BAD_REQUEST_ERROR_CHARS = 200  # of the parser's message, which quotes the client's bytes

API_INTERVALS = 100  # per alert in /api/v1/slos: the most recent; backfill's document keeps them all


def recent_intervals(doc: dict[str, Any], keep: int = API_INTERVALS) -> dict[str, Any]:
    """The document with each alert's intervals cut to the `keep` most recent (bounding the body)."""
    for slo in doc["slos"]:
        for alert in slo["alerts"]:
            alert["intervals"] = alert["intervals"][-keep:]
    return doc


class BadRequests(logging.Filter):
    """On aiohttp's server logger: a request it could not parse (garbage, TLS to the plain port, a line
    over its limit) is the client's doing, not a fault of ours. It becomes one warning line without a
    traceback, at most one every `every_s` seconds, which counts the ones left out since the last."""

    def __init__(self, every_s: float = BAD_REQUEST_LOG_EVERY_S, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.every_s, self.clock = every_s, clock
        self._next = -math.inf
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True  # a handler's exception: our bug, logged in full
        now = self.clock()
        if now < self._next:
            self._suppressed += 1
            return False
        self._next = now + self.every_s
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
        record.msg, record.args, record.exc_info, record.exc_text = "bad HTTP request", (), None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.error = " ".join(str(exc).split())[:BAD_REQUEST_ERROR_CHARS]
        record.remote, record.suppressed = remote, self._suppressed
        self._suppressed = 0
        return True


def quiet_bad_requests() -> None:
    """Put `BadRequests` on aiohttp's server logger (once), which lets every record through to it: aiohttp
    logs some bad requests (a first request that is not HTTP at all) at debug level."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, BadRequests) for f in server.filters):
        server.addFilter(BadRequests())
    server.setLevel(logging.DEBUG)  # the handler's level (slotail.log.setup) still applies after the filter


def make_app(endpoints: Endpoints, middlewares: Sequence[Middleware] = ()) -> web.Application:
    """The aiohttp application (`middlewares`: e.g. basic auth in front of every endpoint)."""

    async def metrics(request: web.Request) -> web.Response:
        body = endpoints.metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        ready = endpoints.ready()
        return web.Response(text="ready\n" if ready else "not ready\n", status=200 if ready else 503)

    async def slos(request: web.Request) -> web.Response:
        snapshot = endpoints.snapshot()
        if snapshot is None:
            return web.Response(status=503, text="not ready\n")
        body = dumps(recent_intervals(document(snapshot, endpoints.lines())))
        return web.Response(body=body, content_type="application/json")

    async def index(request: web.Request) -> web.Response:
        page = status_page(endpoints.snapshot(), endpoints.recent())
        return web.Response(text=page, content_type="text/html")

    app = web.Application(middlewares=list(middlewares))
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/api/v1/slos", slos)
    app.router.add_get("/", index)
    return app
