"""Access-log fixtures in each product's documented JSON shape, from one seeded stream of requests.

`python -m tests.access_logs` writes `tests/data/access-logs/<format>.log` (the integration test
checks that the committed files are what this writes). Two hours of requests from
2026-02-19T09:00:00Z, with a quarter of an hour of trouble (5xx and slow responses) from 10:00.
Each writer follows its product's documentation:

- nginx: `log_format ... escape=json` with the variables quoted as most templates do
  (`"status": "$status"`, `$time_local`), and a variant that writes numbers unquoted (`$msec`).
- Caddy v2: the JSON access log (`ts` float seconds, `duration` float seconds, nested `request`).
- Envoy / Istio: Istio's JSON access log format (`start_time`, `response_code`, `duration` in ms).
- Traefik: the JSON access log fields (`StartUTC`, `DownstreamStatus`, `Duration` in ns).
- pino-http: `level`, `time` (epoch ms), `req`, `res.statusCode`, `responseTime` (ms).
- Go `log/slog` JSONHandler: RFC 3339 nano `time`, a `slog.Group`, `slog.Duration` as ns; and a
  variant with OpenTelemetry's flat keys (`http.response.status_code`).
- Docker json-file around pino-http, and Kubernetes CRI around Envoy (with Envoy's own text lines
  on stderr); lines over 16 KiB are split into pieces as the runtimes do.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).parent / "data" / "access-logs"
SEED = 13
START_NS = 1_771_491_600 * 10**9  # 2026-02-19T09:00:00Z
REQUESTS = 600
SPAN_NS = 2 * 3600 * 10**9
TROUBLE_NS = (START_NS + 3600 * 10**9, START_NS + 4500 * 10**9)  # 10:00 to 10:15
PIECE = 16 * 1024  # docker's and containerd's largest line piece
PARIS = timezone(timedelta(hours=1))
ROUTES = ["/api/items", "/api/items/{id}", "/api/orders", "/healthz"]
AGENTS = ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) Firefox/122.0", "okhttp/4.12.0"]


@dataclass(frozen=True)
class Request:
    """One request, as every product sees it."""

    start_ns: int
    method: str
    route: str
    path: str
    status: int
    latency_ns: int
    size: int
    agent: str
    client: str
    request_id: str


def requests(seed: int = SEED) -> list[Request]:
    """The same two hours of traffic for every format (sorted by start time)."""
    rng = random.Random(seed)
    found = []
    for _ in range(REQUESTS):
        start = START_NS + rng.randrange(SPAN_NS)
        trouble = TROUBLE_NS[0] <= start < TROUBLE_NS[1]
        route = rng.choice(ROUTES)
        path = route.replace("{id}", str(rng.randrange(1, 500)))
        roll = rng.random()
        if roll < (0.25 if trouble else 0.004):
            status = rng.choice([500, 502, 503, 504])
        elif roll < 0.08:
            status = rng.choice([404, 429, 499])
        else:
            status = rng.choice([200, 200, 200, 201, 204])
        latency = rng.lognormvariate(-3.2, 0.9) * (6 if trouble else 1)  # seconds, median about 40 ms
        found.append(
            Request(
                start_ns=start,
                method=rng.choice(["GET", "GET", "GET", "POST"]),
                route=route,
                path=path,
                status=status,
                latency_ns=max(int(latency * 1e9), 1000),
                size=rng.randrange(0, 4096),
                agent=rng.choice(AGENTS) if rng.random() > 0.005 else "x" * 20_000,  # a few huge headers
                client=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                request_id=f"{rng.getrandbits(128):032x}",
            )
        )
    return sorted(found, key=lambda r: r.start_ns)


def rfc3339_nano(ns: int, tz: timezone = UTC) -> str:
    """Go's time.RFC3339Nano: trailing zeros of the fraction dropped, `Z` for UTC."""
    when = datetime.fromtimestamp(ns // 10**9, tz)
    fraction = f"{ns % 10**9:09d}".rstrip("0")
    text = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "")
    return text + ("Z" if tz is UTC else when.strftime("%z")[:3] + ":" + when.strftime("%z")[3:])


def line(doc: dict[str, object]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def nginx_quoted(r: Request) -> str:
    """`log_format main escape=json '{"time_local":"$time_local", ..., "status":"$status", ...}'`."""
    when = datetime.fromtimestamp((r.start_ns + r.latency_ns) // 10**9, PARIS)
    return line(
        {
            "time_local": when.strftime("%d/%b/%Y:%H:%M:%S %z"),
            "remote_addr": r.client,
            "request_method": r.method,
            "request_uri": r.path,
            "status": str(r.status),
            "body_bytes_sent": str(r.size),
            "request_time": f"{r.latency_ns / 1e9:.3f}",
            "upstream_response_time": "-" if r.status == 499 else f"{r.latency_ns / 1e9 * 0.97:.3f}",
            "http_user_agent": r.agent,
            "request_id": r.request_id,
        }
    )


def nginx_unquoted(r: Request) -> str:
    """The same `log_format` with the numbers unquoted (`"status":$status`), and `$msec` as logged
    inside quotes by most templates (an epoch number in a string)."""
    end_ns = r.start_ns + r.latency_ns
    return line(
        {
            "msec": f"{end_ns // 10**9}.{end_ns // 10**6 % 1000:03d}",
            "remote_addr": r.client,
            "request_method": r.method,
            "request_uri": r.path,
            "status": r.status,
            "body_bytes_sent": r.size,
            "request_time": round(r.latency_ns / 1e9, 3),
            "http_user_agent": r.agent,
            "request_id": r.request_id,
        }
    )


def caddy(r: Request) -> str:
    """Caddy v2's access log: `ts` in float seconds (`unix_seconds_float`), `duration` in seconds."""
    return line(
        {
            "level": "error" if r.status >= 500 else "info",
            "ts": (r.start_ns + r.latency_ns) // 1000 / 1e6,
            "logger": "http.log.access.log0",
            "msg": "handled request",
            "request": {
                "remote_ip": r.client,
                "remote_port": "51234",
                "client_ip": r.client,
                "proto": "HTTP/2.0",
                "method": r.method,
                "host": "shop.example.com",
                "uri": r.path,
                "headers": {"User-Agent": [r.agent], "Accept": ["*/*"]},
            },
            "bytes_read": 0,
            "user_id": "",
            "duration": r.latency_ns / 1e9,
            "size": r.size,
            "status": r.status,
            "resp_headers": {"Content-Type": ["application/json"], "Server": ["Caddy"]},
        }
    )


def envoy(r: Request) -> str:
    """Istio's JSON access log (Envoy's format dictionary): `duration` in ms, numbers typed."""
    flags = {503: "UF", 504: "UT"}.get(r.status, "-")
    return line(
        {
            "start_time": rfc3339_ms(r.start_ns),
            "method": r.method,
            "path": r.path,
            "protocol": "HTTP/1.1",
            "response_code": r.status,
            "response_flags": flags,
            "response_code_details": "via_upstream"
            if flags == "-"
            else "upstream_reset_before_response_started",
            "connection_termination_details": None,
            "upstream_transport_failure_reason": None,
            "bytes_received": 0,
            "bytes_sent": r.size,
            "duration": r.latency_ns // 10**6,
            "upstream_service_time": None if flags != "-" else str(r.latency_ns // 10**6),
            "x_forwarded_for": None,
            "user_agent": r.agent,
            "request_id": r.request_id,
            "authority": "reviews:9080",
            "upstream_host": "10.1.2.3:9080",
            "upstream_cluster": "outbound|9080||reviews.default.svc.cluster.local",
            "upstream_local_address": "10.1.0.7:41234",
            "downstream_local_address": "10.1.0.7:9080",
            "downstream_remote_address": f"{r.client}:51234",
            "requested_server_name": None,
            "route_name": "default",
        }
    )


def rfc3339_ms(ns: int) -> str:
    """Envoy's `%START_TIME%`: milliseconds, UTC."""
    when = datetime.fromtimestamp(ns // 10**9, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns // 10**6 % 1000:03d}Z"


def traefik(r: Request) -> str:
    """Traefik's JSON access log: `StartUTC`, `DownstreamStatus`, `Duration` in ns."""
    router = "api@docker" if r.route.startswith("/api") else "health@docker"
    overhead = r.latency_ns // 50
    return line(
        {
            "ClientAddr": f"{r.client}:51234",
            "ClientHost": r.client,
            "ClientPort": "51234",
            "ClientUsername": "-",
            "DownstreamContentSize": r.size,
            "DownstreamStatus": r.status,
            "Duration": r.latency_ns,
            "OriginContentSize": r.size,
            "OriginDuration": r.latency_ns - overhead,
            "OriginStatus": r.status,
            "Overhead": overhead,
            "RequestAddr": "shop.example.com",
            "RequestContentSize": 0,
            "RequestCount": 1,
            "RequestHost": "shop.example.com",
            "RequestMethod": r.method,
            "RequestPath": r.path,
            "RequestPort": "-",
            "RequestProtocol": "HTTP/1.1",
            "RequestScheme": "https",
            "RetryAttempts": 0,
            "RouterName": router,
            "ServiceAddr": "10.0.0.5:8080",
            "ServiceName": router,
            "ServiceURL": "http://10.0.0.5:8080",
            "StartLocal": rfc3339_nano(r.start_ns, PARIS),
            "StartUTC": rfc3339_nano(r.start_ns),
            "entryPointName": "websecure",
            "level": "info",
            "msg": "",
            "time": rfc3339_nano((r.start_ns + r.latency_ns) // 10**9 * 10**9),
        }
    )


def pino_http(r: Request) -> str:
    """pino-http: `time` in epoch ms, `responseTime` in ms; failed requests logged as errors."""
    failed = r.status >= 500
    doc: dict[str, object] = {
        "level": 50 if failed else 30,
        "time": (r.start_ns + r.latency_ns) // 10**6,
        "pid": 42,
        "hostname": "api-7d9f8c6b5-x2x4q",
        "req": {
            "id": int(r.request_id[:6], 16),
            "method": r.method,
            "url": r.path,
            "query": {},
            "params": {},
            "headers": {"host": "api:3000", "user-agent": r.agent},
            "remoteAddress": f"::ffff:{r.client}",
            "remotePort": 51234,
        },
        "res": {"statusCode": r.status, "headers": {"content-type": "application/json"}},
        "responseTime": r.latency_ns // 10**6,
    }
    if failed:
        doc["err"] = {
            "type": "Error",
            "message": f"failed with status code {r.status}",
            "stack": "Error: ...",
        }
    doc["msg"] = "request errored" if failed else "request completed"
    return line(doc)


def slog_grouped(r: Request) -> str:
    """`slog.New(slog.NewJSONHandler(...))` with `slog.Group("http", ...)` and `slog.Duration`."""
    return line(
        {
            "time": rfc3339_nano(r.start_ns + r.latency_ns, PARIS),
            "level": "ERROR" if r.status >= 500 else "INFO",
            "msg": "request",
            "http": {"method": r.method, "route": r.route, "path": r.path, "status": r.status},
            "duration": r.latency_ns,
            "request_id": r.request_id,
        }
    )


def slog_otel(r: Request) -> str:
    """slog with OpenTelemetry's semantic-convention keys written flat (`http.response.status_code`)."""
    return line(
        {
            "time": rfc3339_nano(r.start_ns + r.latency_ns),
            "level": "ERROR" if r.status >= 500 else "INFO",
            "msg": "request",
            "http.request.method": r.method,
            "http.route": r.route,
            "url.path": r.path,
            "http.response.status_code": r.status,
            "http.server.request.duration": r.latency_ns / 1e9,
            "user_agent.original": r.agent,
        }
    )


def pieces(text: str) -> Iterator[tuple[str, bool]]:
    """A line as a runtime writes it: pieces of at most 16 KiB (of UTF-8), the last one flagged."""
    data = text.encode()
    for at in range(0, max(len(data), 1), PIECE):
        yield data[at : at + PIECE].decode(), at + PIECE >= len(data)


def docker(inner: Callable[[Request], str]) -> Callable[[Request], str]:
    """Docker's json-file driver: `{"log": ..., "stream": ..., "time": ...}`, `log` ending in a newline
    on the last piece only."""

    def write(r: Request) -> str:
        when = rfc3339_nano_fixed(r.start_ns + r.latency_ns)
        return "\n".join(
            line({"log": piece + ("\n" if last else ""), "stream": "stdout", "time": when})
            for piece, last in pieces(inner(r))
        )

    return write


def rfc3339_nano_fixed(ns: int) -> str:
    """Docker's RFC3339NanoFixed: nine fraction digits always."""
    when = datetime.fromtimestamp(ns // 10**9, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"


def cri(inner: Callable[[Request], str]) -> Callable[[Request], str]:
    """The CRI log format of containerd and CRI-O: `<time> <stream> <P|F> <piece>`; Envoy's own
    text log lines interleave on stderr now and then."""

    def write(r: Request) -> str:
        when = rfc3339_nano(r.start_ns + r.latency_ns)
        written = [f"{when} stdout {'F' if last else 'P'} {piece}" for piece, last in pieces(inner(r))]
        if r.status == 503:
            stamp = datetime.fromtimestamp(r.start_ns // 10**9, UTC).strftime("%Y-%m-%d %H:%M:%S.000")
            written.append(
                f"{when} stderr F [{stamp}][15][warning][upstream] cluster reviews: no healthy host"
            )
        return "\n".join(written)

    return write


WRITERS: dict[str, Callable[[Request], str]] = {
    "nginx-quoted": nginx_quoted,
    "nginx-unquoted": nginx_unquoted,
    "caddy": caddy,
    "envoy": envoy,
    "traefik": traefik,
    "pino-http": pino_http,
    "slog-grouped": slog_grouped,
    "slog-otel": slog_otel,
    "docker-pino-http": docker(pino_http),
    "cri-envoy": cri(envoy),
}


def fixture(name: str) -> bytes:
    """The fixture file of one format."""
    return "".join(WRITERS[name](r) + "\n" for r in requests()).encode()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in WRITERS:
        (OUT / f"{name}.log").write_bytes(fixture(name))


if __name__ == "__main__":
    main()
