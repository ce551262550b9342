"""Generated log scenarios for golden tests: raw event arrays, and the JSON lines they become.

Lines are written with the stdlib `json` module in three timestamp styles (ISO
with Z, ISO with a +02:00 offset, epoch milliseconds), a few invalid lines, and
requests logged at finish time with their start time (slightly out of order),
as seed 000's middleware does.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import zstandard

from tests.oracle import SLOTruth

US = 1_000_000
T0 = 1_771_459_200 * US  # 2026-02-19T00:00:00Z
PLUS_TWO = timezone(timedelta(hours=2))

CONFIG = """
store: {bucket: 10s}
timestamp: {field: ts}
slos:
  - name: availability
    objective: 99.5
    sli:
      events: {event: req, path: /a}
      bad: {status: {gte: 500}}
      exclude: {status: 429}
  - name: latency
    objective: 95
    sli:
      events: {event: req}
      exclude: {status: {gte: 500}}
      latency: {field: ms, unit: ms, threshold: 300, percentiles: [50, 95, 99]}
  - name: jobs
    objective: 99
    period: 7d
    sli:
      good: {event: job_ok}
      bad: {event: job_failed}
    alerts:
      - {name: spike, severity: page, burn_rate: 10, window: 5m, for: 2m, min_events: 5}
      - {name: page-fast, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m}
alerts: google-30d
"""

GOOGLE_30D = [
    {"name": "page-fast", "severity": "page", "factor": 14.4, "long_s": 3600, "short_s": 300},
    {"name": "page-slow", "severity": "page", "factor": 6.0, "long_s": 21600, "short_s": 1800},
    {"name": "ticket-fast", "severity": "ticket", "factor": 3.0, "long_s": 86400, "short_s": 7200},
    {"name": "ticket-slow", "severity": "ticket", "factor": 1.0, "long_s": 259200, "short_s": 21600},
]
JOBS_ALERTS = [
    {
        "name": "spike",
        "severity": "page",
        "factor": 10.0,
        "long_s": 300,
        "short_s": None,
        "for_s": 120,
        "min_events": 5,
    },
    {"name": "page-fast", "severity": "page", "factor": 14.4, "long_s": 3600, "short_s": 300},
]


@dataclass
class Scenario:
    """Raw events: time (µs), kind (0 request, 1 job ok, 2 job failed), path, status, latency ms."""

    ts_us: np.ndarray
    kind: np.ndarray
    path: np.ndarray  # 0 -> /a, 1 -> /b
    status: np.ndarray
    latency_ms: np.ndarray
    invalid_lines: int = 0

    def truths(self) -> list[SLOTruth]:
        """Each SLO's outcomes, decided here with numpy straight from DESIGN.md's rules."""
        req = self.kind == 0
        avail = req & (self.path == 0)
        avail_excl = avail & (self.status == 429)
        avail_bad = avail & ~avail_excl & (self.status >= 500)
        lat_excl = req & (self.status >= 500)
        lat_bad = req & ~lat_excl & (self.latency_ms > 300)
        lat_good = req & ~lat_excl & ~lat_bad
        return [
            SLOTruth.build(
                "availability",
                99.5,
                30 * 86400,
                self.ts_us,
                avail & ~avail_excl & ~avail_bad,
                avail_bad,
                avail_excl,
                alerts=GOOGLE_30D,
            ),
            SLOTruth.build(
                "latency",
                95.0,
                30 * 86400,
                self.ts_us,
                lat_good,
                lat_bad,
                lat_excl,
                latency_ms=self.latency_ms,
                alerts=GOOGLE_30D,
            ),
            SLOTruth.build(
                "jobs",
                99.0,
                7 * 86400,
                self.ts_us,
                self.kind == 1,
                self.kind == 2,
                np.zeros(len(self.kind), bool),
                alerts=JOBS_ALERTS,
            ),
        ]

    @property
    def first_us(self) -> int:
        return int(self.ts_us.min())

    @property
    def last_us(self) -> int:
        return int(self.ts_us.max())


def generate(
    seconds: int, rate: float, seed: int, error=lambda t: 0.002, slow=lambda t: 1.0, job_error=lambda t: 0.003
) -> Scenario:
    """Requests and jobs at `rate` per second; error/slow/job_error are functions of seconds from T0."""
    rng = np.random.default_rng(seed)
    n = int(rng.poisson(rate * seconds))
    ms = np.sort(rng.integers(0, seconds * 1000, n))
    ms[: max(1, n // 500)] = (ms[: max(1, n // 500)] // 60_000) * 60_000  # some exactly on step edges
    ms.sort()
    offsets = ms / 1000.0
    kind = np.where(rng.random(n) < 0.25, 1, 0)
    job_failed = rng.random(n) < np.vectorize(job_error)(offsets)
    kind = np.where((kind == 1) & job_failed, 2, kind)
    path = (rng.random(n) < 0.4).astype(int)
    failed = rng.random(n) < np.vectorize(error)(offsets)
    status = np.where(failed, 500, np.where(rng.random(n) < 0.01, 429, 200))
    latency = np.round(rng.lognormal(np.log(120), 0.6, n) * np.vectorize(slow)(offsets), 1)
    latency[rng.random(n) < 0.01] = 300.0  # exactly at the threshold: good
    return Scenario(T0 + ms.astype(np.int64) * 1000, kind, path, status, latency)


def _stamp(ts_us: int, style: int) -> object:
    if style == 2:
        return ts_us // 1000
    tz = UTC if style == 0 else PLUS_TWO
    when = datetime.fromtimestamp(ts_us // US, tz) + timedelta(microseconds=ts_us % US)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lines(s: Scenario, seed: int = 1) -> list[bytes]:
    """The scenario as log lines: requests in finish order (start time + latency), a few bad lines."""
    rng = np.random.default_rng(seed)
    written = s.ts_us + np.where(s.kind == 0, (s.latency_ms * 1000).astype(np.int64), 0)
    order = np.argsort(written, kind="stable")
    out = []
    for i in order.tolist():
        style = i % 3
        if s.kind[i] == 0:
            doc = {
                "event": "req",
                "path": "/a" if s.path[i] == 0 else "/b",
                "status": int(s.status[i]),
                "ms": float(s.latency_ms[i]),
                "ts": _stamp(int(s.ts_us[i]), style),
            }
        else:
            doc = {
                "event": "job_ok" if s.kind[i] == 1 else "job_failed",
                "ts": _stamp(int(s.ts_us[i]), style),
            }
        out.append(json.dumps(doc).encode())
    bad = [
        b'{"event": "req", "status": 500',
        b"[1, 2, 3]",
        b'{"event": "req", "status": 500}',
        b"\xff\xfe not utf-8",
        b'{"event": "job_failed", "ts": "2026-02-30T00:00:00Z"}',
    ]
    for _j, line in enumerate(bad * 2):
        out.insert(int(rng.integers(0, len(out))), line)
    s.invalid_lines = len(bad) * 2
    return out


def write(path: Path, chunk: list[bytes], compression: str) -> Path:
    """Write lines as plain, gzip or zstd (the file name does not say which)."""
    data = b"\n".join(chunk) + b"\n"
    if compression == "gzip":
        data = gzip.compress(data)
    elif compression == "zstd":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path
