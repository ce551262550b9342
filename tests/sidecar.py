"""Drive a real `slotail run` process over real files, with the written lines as ground truth.

`Sidecar` starts and stops the daemon and reads it over real HTTP; `Truth` counts
what each written line must become; `LogWriter` is a logger holding an open
append descriptor, as a real API does, so rotations can happen under it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

POLL_S = 0.1
NOBODY = 65534
TIMEOUT_S = 20.0
HOLD_S = 1.5  # how long converged counters must stay put: more than a checkpoint plus a poll

AVAILABILITY = """
  - name: availability
    objective: 99.5
    sli:
      events: {event: req}
      bad: {status: {gte: 500}}
      exclude: {status: 429}
"""
LATENCY = """
  - name: latency
    objective: 95
    sli:
      events: {event: req}
      exclude: {status: {gte: 500}}
      latency: {field: ms, unit: ms, threshold: 300, percentiles: [50, 95, 99]}
"""
ALERTS = """
alerts:
  - {name: page-fast, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m}
  - {name: page-slow, severity: page, burn_rate: 6, long_window: 6h, short_window: 30m}
"""

MAX_LINE = 4096  # store.max_line_bytes: longer lines are invalid
OUTCOMES = ("good", "bad", "excluded")
LINE_RESULTS = ("parsed", "invalid", "unmatched")
# (status, latency ms) of successive requests: every outcome of both SLOs comes up.
REQUESTS = ((200, 40), (503, 20), (200, 900), (429, 15), (201, 120), (500, 1200), (404, 310), (200, 80))


def config_text(logs: Path, slos: str = AVAILABILITY + LATENCY) -> str:
    """A config tailing `logs/*.log` from the beginning, with the given SLOs and two alerts."""
    return (
        f"sources:\n  - {{name: api, paths: [{json.dumps(str(logs / '*.log'))}], start_at: beginning}}\n"
        f"timestamp: {{field: ts}}\nstore: {{max_line_bytes: {MAX_LINE}}}\nslos:{slos}{ALERTS}"
    )


BY_REGION = """
  - name: by-region
    objective: 99
    group_by: [region]
    max_series: {max_series}
    sli: {{events: {{event: req}}, bad: {{status: {{gte: 500}}}}}}
"""
PLAIN = """
  - name: plain
    objective: 99
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
"""


def grouped_config_text(logs: Path, max_series: int, plain: bool = False) -> str:
    """`config_text` with an SLO grouped by `region` (and, with `plain`, an ungrouped twin)."""
    return config_text(logs, BY_REGION.format(max_series=max_series) + (PLAIN if plain else ""))


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = TIMEOUT_S,
    describe: Callable[[], str] = lambda: "",
) -> Any:
    """Poll `predicate` until it returns something truthy (returned); fail with `describe()` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout:.0f}s\n{describe()}")
        time.sleep(POLL_S)


@contextmanager
def unprivileged_dir() -> Iterator[tuple[Path, tuple[str, ...]]]:
    """A directory the daemon can work in, and the prefix that runs it without root's read-anything.

    Mode bits do not stop root, so as root the daemon runs as `nobody` (setpriv) in a directory
    outside pytest's tmp (which is 0700).
    """
    tmp = Path(tempfile.mkdtemp(prefix="slotail-perm-"))
    try:
        if os.geteuid() != 0:
            yield tmp, ()
            return
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: mode 000 cannot stop a read")
        tmp.chmod(0o755)
        (tmp / "state").mkdir()
        os.chown(tmp / "state", NOBODY, NOBODY)
        yield tmp, (setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """Teardown of a child: terminate, then kill if it does not stop within 10 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# ---- ground truth --------------------------------------------------------------------------------


def outcomes(status: int, ms: int) -> dict[str, str]:
    """What one request line is for each SLO of `AVAILABILITY + LATENCY`."""
    availability = "bad" if status >= 500 else "excluded" if status == 429 else "good"
    latency = "excluded" if status >= 500 else "bad" if ms > 300 else "good"
    return {"availability": availability, "latency": latency}


@dataclass
class Truth:
    """What the daemon must have counted: events per (slo, outcome), lines per result, bytes."""

    slos: tuple[str, ...] = ("availability", "latency")
    counts: Counter[tuple[str, ...]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: count[int] = field(default_factory=count)

    def request(self, ts_ms: int | None = None) -> bytes:
        """The next request line (newline included), counted."""
        i = next(self._seq)
        status, ms = REQUESTS[i % len(REQUESTS)]
        ts = ts_ms if ts_ms is not None else time.time_ns() // 1_000_000
        line = {"ts": ts, "event": "req", "seq": i, "path": "/api/guides", "status": status, "ms": ms}
        with self.lock:
            self.counts["lines", "parsed"] += 1
            for slo, outcome in outcomes(status, ms).items():
                if slo in self.slos:
                    self.counts["events", slo, outcome] += 1
        return json.dumps(line).encode() + b"\n"

    def noise(self) -> bytes:
        """An unmatched line, an empty one (not counted at all) and one of each kind of bad line, counted."""
        ts = time.time_ns() // 1_000_000
        invalid = [
            b"{not json",
            b'{"event": "req", "msg": "\xff\xfe"}',  # not UTF-8
            b"[1, 2]",  # not an object
            b'{"event": "req", "status": 200}',  # no timestamp
            json.dumps({"ts": ts, "event": "req", "pad": "x" * MAX_LINE}).encode(),  # over the cap
        ]
        with self.lock:
            self.counts["lines", "parsed"] += 1
            self.counts["lines", "unmatched"] += 1
            self.counts["lines", "invalid"] += len(invalid)
        unmatched = json.dumps({"ts": ts, "event": "heartbeat"}).encode()
        return b"\n".join([unmatched, b"", *invalid]) + b"\n"

    def batch(self, n: int, ts_ms: int | None = None) -> bytes:
        """`n` request lines, then a noise pair."""
        return b"".join(self.request(ts_ms) for _ in range(n)) + self.noise()

    def expected(self) -> dict[tuple[str, ...], int]:
        """Every counter the daemon shows, as it must be once it has read everything written."""
        with self.lock:
            keys: list[tuple[str, ...]] = [("events", s, o) for s in self.slos for o in OUTCOMES]
            keys += [("lines", r) for r in LINE_RESULTS]
            return {k: self.counts[k] for k in keys}

    def period_events(self) -> dict[str, dict[str, int]]:
        """The `events` of each SLO in /api/v1/slos (every line written is inside the period)."""
        expected = self.expected()
        return {s: {o: expected["events", s, o] for o in OUTCOMES} for s in self.slos}


class LogWriter:
    """A logger's open append descriptor: it keeps writing to the same file whatever its name becomes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        os.close(self.fd)


# ---- the daemon ----------------------------------------------------------------------------------


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of a /metrics body by (sample name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def observed(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], truth: Truth, source: str = "api"
) -> dict[tuple[str, ...], int]:
    """The counters `Truth.expected` predicts, as scraped (an absent sample is 0), lines of `source`."""
    values: dict[tuple[str, ...], int] = {}
    for key in truth.expected():
        if key[0] == "events":
            labels = frozenset({("slo", key[1]), ("outcome", key[2])})
            values[key] = int(samples.get(("slotail_sli_events_total", labels), 0))
        else:
            labels = frozenset({("source", source), ("result", key[1])})
            values[key] = int(samples.get(("slotail_lines_total", labels), 0))
    return values


class Sidecar:
    """One `slotail run` process at a time on a state directory, its stderr kept in a file per start."""

    def __init__(
        self, tmp: Path, config: Path, *, prefix: tuple[str, ...] = (), args: tuple[str, ...] = ()
    ) -> None:
        self.tmp, self.config = tmp, config
        self.prefix, self.args = prefix, args  # a command to run it under (setpriv ...); more `run` options
        self.state_dir = tmp / "state"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.stderr_path = tmp / "daemon-0.stderr"
        self.scheme = "http"
        self.ssl: ssl.SSLContext | None = None  # for https
        self.headers: dict[str, str] = {}  # e.g. Authorization

    def command(self, port: int) -> list[str]:
        return [
            *self.prefix,
            sys.executable,
            "-m",
            "slotail",
            "--log-format",
            "json",
            "run",
            "--config",
            str(self.config),
            "--state-dir",
            str(self.state_dir),
            "--listen",
            f"127.0.0.1:{port}",
            "--tick",
            "1s",
            "--checkpoint-interval",
            "1s",
            *self.args,
        ]

    def start(self, ready: bool = True, stdin: int = subprocess.DEVNULL) -> Sidecar:
        """Start the daemon; wait until /readyz says its state is loaded (not `ready`: until it answers).
        `stdin`: what its standard input is (subprocess.PIPE: `proc.stdin`, to write to)."""
        self.starts += 1
        self.port = free_port()
        self.stderr_path = self.tmp / f"daemon-{self.starts}.stderr"
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                self.command(self.port), stdin=stdin, stdout=subprocess.DEVNULL, stderr=stderr
            )
        wait_until(lambda: self._answers("/readyz" if ready else "/healthz"), describe=self.diagnostics)
        return self

    def _answers(self, path: str) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}\n{self.diagnostics()}")
        try:
            return self.get(path)[0] == 200
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = TIMEOUT_S) -> int:
        """Send `sig` and wait for the exit; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.proc = None

    def close(self) -> None:
        """Teardown: terminate, then kill if it does not stop."""
        terminate(self.proc)

    # -- reading it over HTTP

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{self.scheme}://127.0.0.1:{self.port}{path}", headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.ssl) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, body = self.get("/metrics")
        assert status == 200, body
        return parse_metrics(body.decode())

    def document(self) -> dict[str, Any]:
        """/api/v1/slos (waiting out the 503 before the first tick)."""

        def fetch() -> bytes | None:
            status, body = self.get("/api/v1/slos")
            return body if status == 200 else None

        return dict(json.loads(wait_until(fetch, describe=self.diagnostics)))

    def period_events(self) -> dict[str, dict[str, int]]:
        return {slo["name"]: slo["events"] for slo in self.document()["slos"]}

    def stderr(self) -> str:
        """Everything the daemon has written to stderr, over all its starts."""
        return "\n".join(
            f"--- start {i}:\n{(self.tmp / f'daemon-{i}.stderr').read_text(errors='replace')}"
            for i in range(1, self.starts + 1)
        )

    def diagnostics(self) -> str:
        return f"daemon stderr:\n{self.stderr()}"

    # -- the checks every scenario ends with

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_counted(self, truth: Truth, timeout: float = TIMEOUT_S) -> dict[tuple[str, ...], int]:
        """Wait until every counter has reached what was written so far; then it must be exactly that."""
        last: dict[tuple[str, ...], int] = {}

        def reached() -> bool:
            last.update(observed(self.metrics(), truth))
            expected = truth.expected()
            return all(last[k] >= expected[k] for k in expected)

        def describe() -> str:
            return f"expected {truth.expected()}\nlast seen {last}\n{self.diagnostics()}"

        wait_until(reached, timeout, describe=describe)
        # Counters never decrease, so one past the truth now has counted some line twice.
        assert last == truth.expected(), f"counted twice:\n{describe()}"
        return last

    def converge(self, truth: Truth, hold: float = HOLD_S) -> None:
        """Counters reach exactly what was written, stay there for `hold` s, and /api/v1/slos agrees."""
        self.wait_counted(truth)
        assert "Traceback" not in self.stderr(), self.diagnostics()
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline:  # nothing is counted twice later on
            seen = observed(self.metrics(), truth)
            assert seen == truth.expected(), f"counters moved past the truth: {seen}\n{self.diagnostics()}"
            time.sleep(POLL_S)
        last: dict[str, Any] = {}

        def agrees() -> bool:
            last.update(self.period_events())
            return last == truth.period_events()

        wait_until(
            agrees,
            describe=lambda: (
                f"/api/v1/slos events {last}, expected {truth.period_events()}\n{self.diagnostics()}"
            ),
        )
