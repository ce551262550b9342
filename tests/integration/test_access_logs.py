"""Real access-log formats through the real CLI: each fixture of tests/data/access-logs/ with its example
config in config/examples/access-logs/, against a computation straight from the fixture's JSON.

The reference here reads each file on its own: envelopes unwrapped by hand, the JSON decoded with
the stdlib, timestamps read with `decimal` and hand-split dates, outcomes decided in plain Python
from the documented fields, then counted, windowed and ranked by tests/oracle.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import access_logs
from tests.golden import check_slo, run_backfill
from tests.oracle import SLOTruth, iso, steps
from tests.scenarios import GOOGLE_30D

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "config" / "examples" / "access-logs"
DATA = ROOT / "tests" / "data" / "access-logs"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_S = 30 * 86400


def micros(when: datetime) -> int:
    return (when - EPOCH) // timedelta(microseconds=1)


def time_local(text: str) -> int:
    """`19/Feb/2026:10:00:33 +0100`, split by hand."""
    day, month, rest = text.split("/")
    year, hour, minute, second_zone = rest.split(":")
    second, zone = second_zone.split(" ")
    offset = (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
    local = datetime(int(year), MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))
    return micros(local.replace(tzinfo=timezone(offset)))


def rfc3339(text: str) -> int:
    """RFC 3339 with any fraction (digits past the µs dropped) and `Z` or an offset."""
    found = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert found is not None, text
    *fields, fraction, zone = found.groups()
    offset = (
        timedelta(0)
        if zone == "Z"
        else (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:]))
    )
    when = datetime(*map(int, fields), tzinfo=timezone(offset))
    return micros(when) + int((fraction or "0")[:6].ljust(6, "0"))


def seconds_text(text: str) -> int:
    """Epoch seconds written as a decimal string, to µs (truncated)."""
    return int(Decimal(text) * 10**6)


def seconds_float(value: float) -> int:
    """Epoch seconds as a JSON float, rounded to the nearest µs."""
    return int((Decimal(repr(value)) * 10**6).to_integral_value(ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Shape:
    """How the reference reads one format: its time (µs), status, latency (ms), which records are
    requests, which statuses are excluded, and its group (for a grouped availability SLO)."""

    time: Callable[[dict[str, Any]], int]
    status: Callable[[dict[str, Any]], int]
    latency_ms: Callable[[dict[str, Any]], float]
    request: Callable[[dict[str, Any]], bool]
    excluded: frozenset[int] = frozenset()
    timed: Callable[[dict[str, Any]], bool] = lambda r: True  # requests the latency SLO reads
    group: Callable[[dict[str, Any]], str] | None = None
    envelope: str | None = None


def nginx_latency(r: dict[str, Any]) -> float:
    return float(Decimal(str(r["request_time"])) * 1000)


PINO = Shape(
    time=lambda r: r["time"] * 1000,
    status=lambda r: r["res"]["statusCode"],
    latency_ms=lambda r: r["responseTime"],
    request=lambda r: r["msg"] in ("request completed", "request errored"),
)
ENVOY = Shape(
    time=lambda r: rfc3339(r["start_time"]),
    status=lambda r: r["response_code"],
    latency_ms=lambda r: r["duration"],
    request=lambda r: "response_code" in r,
    excluded=frozenset({0}),
)
SHAPES = {
    "nginx-quoted": Shape(
        time=lambda r: time_local(r["time_local"]),
        status=lambda r: int(r["status"]),
        latency_ms=nginx_latency,
        request=lambda r: "request_method" in r,
        excluded=frozenset({499}),
    ),
    "nginx-unquoted": Shape(
        time=lambda r: seconds_text(r["msec"]),
        status=lambda r: r["status"],
        latency_ms=nginx_latency,
        request=lambda r: "request_method" in r,
        excluded=frozenset({499}),
    ),
    "caddy": Shape(
        time=lambda r: seconds_float(r["ts"]),
        status=lambda r: r["status"],
        latency_ms=lambda r: float(Decimal(repr(r["duration"])) * 1000),
        request=lambda r: r["msg"] == "handled request",
        timed=lambda r: r["request"]["method"] in ("GET", "HEAD"),
    ),
    "envoy": ENVOY,
    "traefik": Shape(
        time=lambda r: rfc3339(r["StartUTC"]),
        status=lambda r: r["DownstreamStatus"],
        latency_ms=lambda r: r["Duration"] / 1e6,
        request=lambda r: "DownstreamStatus" in r,
        group=lambda r: r["RouterName"],
    ),
    "pino-http": PINO,
    "slog-grouped": Shape(
        time=lambda r: rfc3339(r["time"]),
        status=lambda r: r["http"]["status"],
        latency_ms=lambda r: r["duration"] / 1e6,
        request=lambda r: r["msg"] == "request",
        group=lambda r: r["http"]["route"],
    ),
    "slog-otel": Shape(
        time=lambda r: rfc3339(r["time"]),
        status=lambda r: r["http.response.status_code"],
        latency_ms=lambda r: float(Decimal(repr(r["http.server.request.duration"])) * 1000),
        request=lambda r: "http.request.method" in r,
        group=lambda r: r["http.route"],
    ),
    "docker-pino-http": Shape(**{**PINO.__dict__, "envelope": "docker"}),
    "cri-envoy": Shape(**{**ENVOY.__dict__, "envelope": "cri"}),
}
THRESHOLD_MS = 250.0  # every example's latency threshold, in its own unit


def app_lines(raw: bytes, envelope: str | None) -> list[str]:
    """The app's lines of a file: docker's `log` strings and CRI's contents, pieces joined."""
    text = raw.decode().splitlines()
    if envelope is None:
        return text
    lines, held = [], ""
    for entry in text:
        if envelope == "docker":
            piece = json.loads(entry)["log"]
            whole, piece = piece.endswith("\n"), piece.removesuffix("\n")
        else:
            _, _, tag, piece = entry.split(" ", 3)
            whole = tag == "F"
        held += piece
        if whole:
            lines.append(held)
            held = ""
    return lines


@dataclass
class Reference:
    truths: list[tuple[dict[str, str] | None, SLOTruth]]
    lines: dict[str, int]
    at_us: int
    first_us: int


def reference(name: str) -> Reference:
    """Every SLO's (and group's) outcomes and the line counts, from the fixture alone."""
    shape = SHAPES[name]
    records, invalid = [], 0
    for text in app_lines((DATA / f"{name}.log").read_bytes(), shape.envelope):
        try:
            records.append(json.loads(text))
        except json.JSONDecodeError:
            invalid += 1  # Envoy's own text log lines on stderr
    ts = np.array([shape.time(r) for r in records], np.int64)
    request = np.array([shape.request(r) for r in records])
    status = np.array([shape.status(r) if shape.request(r) else 0 for r in records])
    latency = np.array([shape.latency_ms(r) if shape.request(r) else np.nan for r in records])
    timed = request & np.array([shape.timed(r) if shape.request(r) else False for r in records])
    excluded = request & np.isin(status, list(shape.excluded))
    bad = request & ~excluded & (status >= 500)
    slow_excluded = timed & (status >= 500)
    slow = timed & ~slow_excluded & (latency > THRESHOLD_MS)
    groups: list[tuple[dict[str, str] | None, np.ndarray]] = [(None, np.ones(len(records), bool))]
    if shape.group is not None:
        values = np.array([shape.group(r) if shape.request(r) else "" for r in records])
        key = "RouterName" if name == "traefik" else ("/http.route" if name == "slog-otel" else "http.route")
        groups = [({key: v}, values == v) for v in sorted(set(values[request]))]
    truths = [
        (
            labels,
            SLOTruth.build(
                "availability",
                99.5,
                PERIOD_S,
                ts,
                mine & request & ~excluded & ~bad,
                mine & bad,
                mine & excluded,
                alerts=GOOGLE_30D,
            ),
        )
        for labels, mine in groups
    ]
    truths.append(
        (
            None,
            SLOTruth.build(
                "latency",
                95.0,
                PERIOD_S,
                ts,
                timed & ~slow_excluded & ~slow,
                slow,
                slow_excluded,
                latency_ms=np.where(np.isnan(latency), 0, latency),
                alerts=GOOGLE_30D,
            ),
        )
    )
    lines = {"read": len(records) + invalid, "parsed": len(records), "invalid": invalid, "unmatched": 0}
    return Reference(truths, lines, int(ts.max()), int(ts.min()))


FORMATS = sorted(SHAPES)


def test_every_example_config_has_a_fixture_and_every_fixture_a_config() -> None:
    """One config per format, named as its fixture and its writer."""
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == FORMATS
    assert sorted(p.stem for p in DATA.glob("*.log")) == FORMATS == sorted(access_logs.WRITERS)


@pytest.mark.parametrize("name", FORMATS)
def test_the_fixture_is_what_its_generator_writes(name: str) -> None:
    """tests/access_logs.py (seeded) writes the committed fixture byte for byte."""
    assert access_logs.fixture(name) == (DATA / f"{name}.log").read_bytes()


@pytest.mark.parametrize("name", FORMATS)
def test_backfill_of_each_format_equals_the_reference(name: str) -> None:
    """Counts per SLO and group, error ratios, budgets, alert intervals and p50/p95/p99 over every
    window equal the reference's (percentiles within HDR's 3 significant digits); the latency
    threshold reads as 250 ms whatever the format's unit."""
    ref = reference(name)
    doc = run_backfill(EXAMPLES / f"{name}.yaml", [DATA / f"{name}.log"])
    assert doc["lines"] == ref.lines
    assert doc["evaluated_at"] == iso(ref.at_us)
    assert [(s["name"], s.get("labels")) for s in doc["slos"]] == [
        (t.name, labels) for labels, t in ref.truths
    ]
    for got, (_, truth) in zip(doc["slos"], ref.truths, strict=True):
        check_slo(got, truth, ref.at_us, steps(ref.first_us, ref.at_us))
    [latency] = [s for s in doc["slos"] if s["name"] == "latency"]
    assert latency["latency"]["threshold_ms"] == pytest.approx(THRESHOLD_MS)
    assert any(a["intervals"] for s in doc["slos"] for a in s["alerts"])  # the trouble pages


@pytest.mark.parametrize("name", FORMATS)
def test_slotail_check_accepts_each_example_config(name: str) -> None:
    """`slotail check --config` exits 0 on every example."""
    proc = subprocess.run(
        [sys.executable, "-m", "slotail", "check", "--config", str(EXAMPLES / f"{name}.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def check_logs(config: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "slotail",
            "check",
            "--config",
            str(config),
            "--logs",
            str(DATA / f"{name}.log"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", FORMATS)
def test_check_logs_finds_every_example_config_reads_its_fixture(name: str) -> None:
    """`slotail check --logs` on each fixture with its example config: every SLO reads, exit 0."""
    proc = check_logs(EXAMPLES / f"{name}.yaml", name)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("name", "naive", "said"),
    [
        (
            "nginx-quoted",
            lambda text: re.sub(r"fields:\n(  \w+: number\n)+", "", text),
            "fields: {status: number}",
        ),
        ("slog-otel", lambda text: text.replace("/http.", "http."), "name it `/http.response.status_code`"),
    ],
    ids=["quoted-numbers-undeclared", "flat-keys-dotted"],
)
def test_the_naive_configs_for_quoted_numbers_and_flat_keys_are_flagged(
    tmp_path: Path, name: str, naive: Callable[[str], str], said: str
) -> None:
    """Written the naive way (no `fields:` for nginx's quoted numbers; dotted paths for flat OTel keys),
    `check --logs` exits 1 and names the field with the fix."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(naive((EXAMPLES / f"{name}.yaml").read_text()))
    assert config.read_text() != (EXAMPLES / f"{name}.yaml").read_text()
    proc = check_logs(config, name)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert said in proc.stdout
