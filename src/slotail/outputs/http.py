"""HTTP endpoints of the sidecar: /metrics, /healthz, /readyz, /api/v1/slos and a status page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
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


API_INTERVALS = 100  # per alert in /api/v1/slos: the most recent; backfill's document keeps them all


def recent_intervals(doc: dict[str, Any], keep: int = API_INTERVALS) -> dict[str, Any]:
    """The document with each alert's intervals cut to the `keep` most recent (bounding the body)."""
    for slo in doc["slos"]:
        for alert in slo["alerts"]:
            alert["intervals"] = alert["intervals"][-keep:]
    return doc


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
