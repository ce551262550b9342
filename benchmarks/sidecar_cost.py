"""Sidecar cost: what the real `slotail run` daemon costs its pod, measured from outside.

Two daemons, one after the other, each in a temp dir, tailing `<tmp>/logs/*.log`:

1. the shipped SLOs (plus a `probe` SLO) starting empty: CPU (% of one core,
   from /proc) while a child process appends live traffic at 1k and at 20k
   lines/s (rotating every minute, /metrics scraped every 15 s as Prometheus
   would); then the detection latency: a probe line appended to its own file,
   timed until its counter (`slotail_sli_events_total`) and its error-ratio
   gauge change on /metrics (polled every 10 ms), p50/p99 over --probes lines;
2. 50 SLOs (the shipped ones repeated) warm-started from 30 days of history
   (`--backfill`), so every ring of the store is full: RSS after a minute of
   live traffic at 1k lines/s, and the time to scrape /metrics (50 scrapes).

Results are printed and appended to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml

from slotail.testing.demo import write_history
from soak import (
    RESULTS,
    ROOT,
    SHIPPED_CONFIG,
    cpu_s,
    daemon_argv,
    free_port,
    get,
    git,
    machine,
    rss_kib,
    scrape,
    shown,
    start_writer,
    stop_daemon,
    tree_state,
)

PROBE_SLO = {
    "name": "probe",
    "objective": 99.0,
    "sli": {"good": {"event": "probe_ok"}, "bad": {"event": "probe_failed"}},
}
PROBE_COUNTER = 'slotail_sli_events_total{outcome="%s",slo="probe"}'
PROBE_RATIO = 'slotail_error_ratio{slo="probe",window="5m"}'
SCRAPE_EVERY_S = 15.0
POLL_S = 0.01
PROBE_TIMEOUT_S = 20.0
TICK_S = 5.0  # the daemon's default --tick
SETTLE_S = 30.0


def write_config(tmp: Path, copies: int, probe: bool) -> Path:
    """The shipped SLOs (repeated `copies` times, renamed) and alerts, tailing <tmp>/logs/*.log."""
    shipped = yaml.safe_load(SHIPPED_CONFIG.read_text())
    slos = [
        {**slo, "name": f"{slo['name']}-{i}" if i else slo["name"]}
        for i in range(copies)
        for slo in shipped["slos"]
    ]
    config = {
        "sources": [{"name": "api", "paths": [str(tmp / "logs" / "*.log")], "start_at": "beginning"}],
        "timestamp": {"field": "timestamp"},
        "defaults": shipped.get("defaults", {"period": "30d"}),
        "slos": [*slos[: 50 if copies > 1 else len(slos)], *([PROBE_SLO] if probe else [])],
        "alerts": shipped["alerts"],
    }
    path = tmp / "slotail.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass
class Daemon:
    """A running sidecar."""

    proc: subprocess.Popen[bytes]
    base: str
    argv: list[str]

    def counted(self) -> int:
        """Lines counted (parsed + invalid) as /metrics says."""
        m = scrape(self.base)
        return int(
            sum(v for k, v in m.items() if k.startswith("slotail_lines_total{") and "unmatched" not in k)
        )


def start(tmp: Path, config: Path, extra: list[str], ready_s: float = 30.0) -> Daemon:
    """Start `slotail run` and wait (up to `ready_s`) until /readyz says it is ready."""
    port = free_port()
    argv = [*daemon_argv(config, tmp / "state", port), *extra]
    with (tmp / "daemon.stderr").open("ab") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_s
    while get(base + "/readyz", 1.0)[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_daemon(proc)
            raise RuntimeError(f"daemon not ready (exit {proc.returncode}); see {tmp}/daemon.stderr")
        time.sleep(0.2)
    return Daemon(proc, base, argv)


def cpu_phase(d: Daemon, logs: Path, rate: float, seconds: float) -> dict[str, float]:
    """Daemon CPU (% of one core) while live traffic is appended at `rate` lines/s for `seconds`."""
    before = d.counted()
    writer = start_writer(logs / f"api-{int(rate)}.log", rate, 60.0)
    time.sleep(3.0)  # the writer's start-up and first seconds
    cpu0, wall0, written0 = cpu_s(d.proc.pid), time.monotonic(), int(writer.written.value)
    next_scrape = wall0
    while time.monotonic() - wall0 < seconds:
        if time.monotonic() >= next_scrape:
            scrape(d.base)
            next_scrape += SCRAPE_EVERY_S
        time.sleep(0.2)
    cpu1, wall1, written1 = cpu_s(d.proc.pid), time.monotonic(), int(writer.written.value)
    total, _ = writer.finish()
    return {
        "rate": (written1 - written0) / (wall1 - wall0),
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "settle_s": settle(d, before + total),
    }


def settle(d: Daemon, expected: int) -> float:
    """Seconds until the daemon has counted `expected` lines (-1 if not within SETTLE_S)."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_S:
        if d.counted() >= expected:
            return time.monotonic() - started
        time.sleep(0.1)
    return -1.0


def probe_once(d: Daemon, probe_log: Path, outcome: str) -> tuple[float, float]:
    """Append one probe line; seconds until its counter and until the probe's error ratio change."""
    metrics = scrape(d.base)
    counter = PROBE_COUNTER % outcome
    before = (metrics.get(counter), metrics.get(PROBE_RATIO))
    line = {
        "event": "probe_ok" if outcome == "good" else "probe_failed",
        "timestamp": time.time_ns() // 10**6,
    }
    appended = time.monotonic()
    with probe_log.open("ab") as out:
        out.write(orjson.dumps(line) + b"\n")
    seen = [float("inf"), float("inf")]
    while time.monotonic() - appended < PROBE_TIMEOUT_S and float("inf") in seen:
        metrics = scrape(d.base)
        now = time.monotonic() - appended
        for i, key in enumerate((counter, PROBE_RATIO)):
            if seen[i] == float("inf") and metrics.get(key) != before[i]:
                seen[i] = now
        time.sleep(POLL_S)
    return seen[0], seen[1]


def probes(d: Daemon, logs: Path, count: int) -> dict[str, list[float]]:
    """Probe lines, alternately good and bad, timed while 1k lines/s of other traffic are written."""
    writer = start_writer(logs / "api-probe-traffic.log", 1000.0, 60.0)
    found: dict[str, list[float]] = {"counter": [], "gauge": []}
    try:
        time.sleep(3.0)
        for i in range(count):
            counter, gauge = probe_once(d, logs / "probe.log", "good" if i % 2 == 0 else "bad")
            found["counter"].append(counter)
            found["gauge"].append(gauge)
            time.sleep((i * 0.37) % 1.0)  # spread the probes over the tick and checkpoint phases
    finally:
        writer.finish()
    return found


def scrape_times(d: Daemon, count: int) -> tuple[list[float], int]:
    """Wall seconds of `count` GET /metrics, and the size of the last body."""
    times, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        _, body = get(d.base + "/metrics")
        times.append(time.perf_counter() - started)
        size = len(body)
    return times, size


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="each CPU phase (default 30)")
    parser.add_argument("--probes", type=int, default=30, help="detection-latency probes (default 30)")
    parser.add_argument(
        "--history-rate", type=float, default=0.2, help="requests/s over the 30 days (default 0.2)"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def first_daemon(args: argparse.Namespace, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """CPU at 1k and 20k lines/s, then detection latency, on the shipped SLOs."""
    logs = tmp / "logs"
    logs.mkdir(parents=True)
    d = start(tmp, write_config(tmp, 1, probe=True), [])
    try:
        out: dict[str, Any] = {"cpu": [cpu_phase(d, logs, rate, args.seconds) for rate in (1000.0, 20000.0)]}
        out["latency"] = probes(d, logs, args.probes)
        out["exit"] = stop_daemon(d.proc)
    finally:
        stop_daemon(d.proc)
    return d.argv, out


def second_daemon(args: argparse.Namespace, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """RSS and scrape time with 50 SLO series, warm-started from 30 days of history."""
    logs = tmp / "logs"
    logs.mkdir(parents=True)
    started = time.monotonic()
    history = write_history(tmp / "archive", 30 * 24, args.history_rate, 7, time.time_ns() // 1000)
    made = time.monotonic() - started
    started = time.monotonic()
    d = start(tmp, write_config(tmp, 9, probe=False), ["--backfill", str(history)], ready_s=900.0)
    warm = time.monotonic() - started
    try:
        out: dict[str, Any] = {
            "history_s": made,
            "warm_s": warm,
            "history_bytes": history.stat().st_size if history else 0,
        }
        out["cpu"] = cpu_phase(d, logs, 1000.0, 60.0)
        times, size = scrape_times(d, 50)
        out |= {"scrape": times, "scrape_bytes": size, "rss_kib": rss_kib(d.proc.pid)}
        out["store_bytes"] = scrape(d.base).get("slotail_store_bytes")
        out["series"] = sum(1 for k in scrape(d.base) if k.startswith("slotail_objective_ratio{"))
        out["exit"] = stop_daemon(d.proc)
    finally:
        stop_daemon(d.proc)
    return d.argv, out


def report(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """The Markdown table rows and notes."""
    cpu, lat, n = first["cpu"], first["latency"], second["series"]
    rows = ["| measure | value | issue 5 limit |", "|---|---|---|"]
    for phase, limit in zip(cpu, ("≤ 5%", "—"), strict=True):
        rows.append(
            f"| CPU at {phase['rate']:,.0f} lines/s, % of one core | {phase['cpu_pct']:.1f}% | {limit} |"
        )
    for kind, what in (("counter", "slotail_sli_events_total"), ("gauge", "slotail_error_ratio")):
        v = lat[kind]
        rows.append(
            f"| detection latency, {what}: p50 / p99 / max | {pct(v, 0.5):.2f} / {pct(v, 0.99):.2f} / "
            f"{max(v):.2f} s | p99 ≤ 1 s + tick ({TICK_S:.0f} s) |"
        )
    ms = [t * 1000 for t in second["scrape"]]
    rows.append(
        f"| /metrics scrape, {n} SLOs: p50 / p99 / max | {pct(ms, 0.5):.1f} / {pct(ms, 0.99):.1f} / "
        f"{max(ms):.1f} ms | ≤ 20 ms |"
    )
    rows.append(f"| RSS, {n} SLOs, 30 days held | {second['rss_kib'] / 1024:.1f} MiB | ≤ 150 MiB |")
    warm = second["cpu"]
    rows.append(
        f"| CPU at {warm['rate']:,.0f} lines/s, {n} SLOs, % of one core | {warm['cpu_pct']:.1f}% | — |"
    )
    settled = ", ".join(f"{p['settle_s']:.1f} s" for p in [*cpu, warm])
    store = (second["store_bytes"] or 0) / 2**20
    notes = [
        f"CPU: after 3 s of writing, {len(cpu)} phases of --seconds (the 50-SLO one 60 s); the writer "
        f"rotates every 60 s; /metrics scraped every {SCRAPE_EVERY_S:.0f} s; every line counted "
        f"{settled} after the writer stopped (-1: not within 30 s)",
        f"detection: {len(lat['counter'])} probe lines, alternately good and bad, appended to "
        "logs/probe.log while 1k lines/s of other traffic run, timed until the probe's counter changed on "
        "/metrics (counters advance at each checkpoint, every 1 s) and until its 5m error ratio changed "
        f"(gauges advance at each tick, every {TICK_S:.0f} s); /metrics polled every {POLL_S * 1000:.0f} ms",
        f"30 days: {second['history_bytes'] / 2**20:.1f} MiB of gzip history written in "
        f"{second['history_s']:.1f} s; "
        f"warm start until /readyz {second['warm_s']:.1f} s; slotail_store_bytes {store:.1f} MiB; "
        f"/metrics body {second['scrape_bytes']:,} bytes",
        f"daemon exit codes after SIGTERM: {first['exit']}, {second['exit']}",
    ]
    return [*rows, "", *[f"- {note}" for note in notes]]


def main(argv: list[str] | None = None) -> int:
    """Measure both daemons, print, record."""
    args = parse_args(argv)
    now, commit, tree = datetime.now(UTC), git("rev-parse", "--short", "HEAD"), tree_state()
    with (
        tempfile.TemporaryDirectory(prefix="slotail-cost-") as one,
        tempfile.TemporaryDirectory(prefix="slotail-cost-") as two,
    ):
        print("sidecar: CPU and detection latency (shipped SLOs)", file=sys.stderr)
        argv1, first = first_daemon(args, Path(one))
        print("sidecar: 50 SLOs over 30 days (RSS, scrape time)", file=sys.stderr)
        argv2, second = second_daemon(args, Path(two))
        body = [
            f"## Sidecar cost — {now:%Y-%m-%d %H:%M} UTC — {commit}",
            "",
            f"- Command: `{shown([sys.executable, *sys.argv])}` (in {ROOT})",
            f"- Date: {now:%Y-%m-%dT%H:%M:%SZ}",
            f"- Machine: {machine()}",
            f"- slotail: commit {commit}, tree {tree}",
            f"- Daemon 1: `{shown(argv1).replace(one, '<tmp>')}`",
            f"- Daemon 2: `{shown(argv2).replace(two, '<tmp>')}`",
            f"- Parameters: --seconds {args.seconds:g} --probes {args.probes} "
            f"--history-rate {args.history_rate:g}",
            "",
            *report(first, second),
        ]
    text = "\n".join([*body, ""])
    print(text)
    if not args.no_record:
        with RESULTS.open("a") as out:
            out.write("\n" + text)
    return 0 if first["exit"] == 0 and second["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
