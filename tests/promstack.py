"""A real Prometheus and a real Alertmanager for the integration tests, and live traffic to feed sidecars.

`Service` runs one external binary on 127.0.0.1 with its stderr kept in a file;
`Prometheus` and `Alertmanager` write a temporary config, start, wait until ready,
and read their HTTP APIs. `Pod` writes request lines with the current time as a
real API would, with a fixed, evenly spread share of failures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.sidecar import LogWriter, free_port, terminate, wait_until

TIMEOUT_S = 30.0  # Prometheus and Alertmanager take longer than a sidecar to settle
TAIL_LINES = 40


def wait_for(
    predicate: Callable[[], Any], timeout: float = TIMEOUT_S, describe: Callable[[], str] = lambda: ""
) -> Any:
    """`tests.sidecar.wait_until` with the longer timeout these services need."""
    return wait_until(predicate, timeout, describe)


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Status and body of a GET; (0, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc).encode()


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log file, for assertion messages."""
    if not path.exists():
        return f"({path.name} not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def generate_rules(config: Path, out: Path) -> Path:
    """`slotail rules --config CONFIG` written to `out`."""
    proc = subprocess.run(
        [sys.executable, "-m", "slotail", "rules", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out.write_text(proc.stdout)
    return out


def backfill_json(config: Path, logs: Sequence[Path], at: float) -> dict[str, Any]:
    """`slotail backfill --format json --at AT LOG...` as a document (AT to the millisecond)."""
    seconds, ms = divmod(round(at * 1000), 1000)
    at_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"
    command = [sys.executable, "-m", "slotail", "backfill", "--config", str(config), "--format", "json"]
    proc = subprocess.run(
        [*command, "--at", at_text, *map(str, logs)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


# ---- external services ---------------------------------------------------------------------------


class Service:
    """One external process listening on 127.0.0.1, its stderr kept in `<name>.stderr`."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name, self.tmp = name, tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = tmp / f"{name}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> Service:
        """Start the process and wait until its /-/ready answers 200."""
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        wait_for(self._ready, describe=self.diagnostics)
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}\n{self.diagnostics()}")
        return http_get(f"{self.url}/-/ready")[0] == 200

    def get_json(self, path: str, **params: Any) -> Any:
        """A GET on the service's API, decoded; fails with the service's stderr on a non-200."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = http_get(f"{self.url}{path}{query}")
        assert status == 200, f"GET {path}{query}: {status} {body[:500]!r}\n{self.diagnostics()}"
        return json.loads(body)

    def diagnostics(self) -> str:
        return f"--- {self.name} stderr (tail):\n{tail(self.stderr_path)}"

    def close(self) -> None:
        """Teardown: terminate, then kill if it does not stop."""
        terminate(self.proc)


class Prometheus(Service):
    """`prometheus` scraping `targets` every second and evaluating `rules` every second."""

    def __init__(self, binary: str, tmp: Path, targets: Sequence[str], rules: Path) -> None:
        super().__init__("prometheus", tmp)
        self.binary = binary
        self.config = tmp / "prometheus.yml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(rules)],
                    "scrape_configs": [
                        {"job_name": "slotail", "static_configs": [{"targets": list(targets)}]}
                    ],
                }
            )
        )

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.tmp / 'tsdb'}",
            "--storage.tsdb.retention.time=1h",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
        ]

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        """The instant vector of `expr` at time `at` (HTTP API /api/v1/query)."""
        doc = self.get_json("/api/v1/query", query=expr, time=f"{at:.3f}")
        assert doc["status"] == "success", doc
        assert doc["data"]["resultType"] == "vector", doc
        return list(doc["data"]["result"])

    def targets(self) -> list[dict[str, Any]]:
        return list(self.get_json("/api/v1/targets")["data"]["activeTargets"])

    def rule_groups(self) -> list[dict[str, Any]]:
        return list(self.get_json("/api/v1/rules")["data"]["groups"])


class Alertmanager(Service):
    """`prometheus-alertmanager`, clustering off, routing everything to a null receiver."""

    def __init__(self, binary: str, tmp: Path) -> None:
        super().__init__("alertmanager", tmp)
        self.binary = binary
        self.config = tmp / "am.yml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "route": {
                        "receiver": "null",
                        "group_wait": "1s",
                        "group_interval": "1s",
                        "repeat_interval": "1h",
                    },
                    "receivers": [{"name": "null"}],
                }
            )
        )

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config}",
            f"--storage.path={self.tmp / 'am'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
        ]

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts with the given filters (`active="true"`, ...)."""
        return list(self.get_json("/api/v2/alerts", **filters))


# ---- live traffic --------------------------------------------------------------------------------


class Pod:
    """An API pod logging `rate` requests a second, stamped with the time of writing.

    Every `bad_every`-th request fails (status 503; 0 means none; it may be changed while writing),
    so any stretch of the log holds the failure share to within one line, whatever its length.
    """

    def __init__(self, log: Path, rate: float, bad_every: int) -> None:
        self.writer = LogWriter(log)
        self.rate, self.bad_every = rate, bad_every
        self.written = self.bad = 0
        self._due = 0.0

    def write_due(self, dt: float) -> None:
        """Write the requests that `dt` more seconds of traffic make due."""
        self._due += self.rate * dt
        n = int(self._due) - self.written
        if n <= 0:
            return
        ts = time.time_ns() // 1_000_000
        lines = []
        for i in range(self.written, self.written + n):
            failed = self.bad_every > 0 and i % self.bad_every == self.bad_every - 1
            self.bad += failed
            lines.append(json.dumps({"ts": ts, "event": "req", "seq": i, "status": 503 if failed else 200}))
        self.writer.write(("\n".join(lines) + "\n").encode())
        self.written += n

    def close(self) -> None:
        self.writer.close()


class Traffic(threading.Thread):
    """Writes every pod's due requests every `step` seconds in the background until stopped."""

    def __init__(self, pods: Sequence[Pod], step: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pods, self.step = list(pods), step
        self.started_at = 0.0
        self._stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        last = self.started_at = time.monotonic()
        try:
            while not self._stop_event.wait(self.step):
                now = time.monotonic()
                for pod in self.pods:
                    pod.write_due(now - last)
                last = now
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def stop(self) -> None:
        """Stop writing (idempotent) and re-raise anything the writer thread hit."""
        self._stop_event.set()
        if self.is_alive():
            self.join(10)
        if self.error is not None:
            raise self.error
