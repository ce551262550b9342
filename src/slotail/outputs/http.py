"""HTTP endpoints of the sidecar: /metrics, /healthz, /readyz, /api/v1/slos and a status page."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from slotail.engine.snapshot import Snapshot
from slotail.outputs.document import document, dumps
from slotail.outputs.text import budget_left, burn, percent
from slotail.pipeline import LineStats
from slotail.timeutil import iso_utc


@dataclass(frozen=True)
class Endpoints:
    """What the handlers read from the daemon."""

    registry: CollectorRegistry
    snapshot: Callable[[], Snapshot | None]
    lines: Callable[[], LineStats]
    ready: Callable[[], bool]


API_INTERVALS = 100  # per alert in /api/v1/slos: the most recent; backfill's document keeps them all


def recent_intervals(doc: dict[str, Any], keep: int = API_INTERVALS) -> dict[str, Any]:
    """The document with each alert's intervals cut to the `keep` most recent (bounding the body)."""
    for slo in doc["slos"]:
        for alert in slo["alerts"]:
            alert["intervals"] = alert["intervals"][-keep:]
    return doc


def status_page(snapshot: Snapshot | None) -> str:
    """A minimal page for people: each SLO's status, budget and burn rates."""
    if snapshot is None:
        return "<!doctype html><title>slotail</title><p>Starting…</p>"
    rows = "".join(
        f"<tr><td>{html.escape(s.name)}</td><td>{percent(s.objective, 2)}</td><td>{percent(s.sli)}</td>"
        f"<td>{html.escape(budget_left(s))}</td><td>{s.status}</td>"
        f"<td>{html.escape(', '.join(f'{w.label} {burn(w.burn_rate)}' for w in s.windows))}</td>"
        f"<td>{html.escape(', '.join(a.name for a in s.alerts if a.active) or 'none')}</td></tr>"
        for s in snapshot.slos
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><meta http-equiv=refresh content=10>"
        "<meta name=viewport content='width=device-width'><title>slotail</title></head><body>"
        f"<h1>SLOs at {iso_utc(snapshot.at_us)}</h1><table border=1 cellpadding=4>"
        "<tr><th>SLO</th><th>Objective</th><th>SLI</th><th>Budget left</th><th>Status</th>"
        f"<th>Burn rates</th><th>Active alerts</th></tr>{rows}</table>"
        "<p><a href=/metrics>/metrics</a> · <a href=/api/v1/slos>/api/v1/slos</a></p></body></html>"
    )


def make_app(endpoints: Endpoints, middlewares: Sequence[Middleware] = ()) -> web.Application:
    """The aiohttp application (`middlewares`: e.g. basic auth in front of every endpoint)."""

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(endpoints.registry)
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
        return web.Response(text=status_page(endpoints.snapshot()), content_type="text/html")

    app = web.Application(middlewares=list(middlewares))
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/api/v1/slos", slos)
    app.router.add_get("/", index)
    return app
