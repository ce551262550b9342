"""Soak: the real `slotail run` sidecar tailing a live, rotating log for minutes, watched from outside.

A child process appends synthetic API lines (slotail.testing.traffic) with
current timestamps to logs/api.log at --rate lines/s, in batches every 50 ms,
and rotates it every --rotate-every seconds by rename + create, writing to the
old file for a moment after the rename as a real logger does. Every 5 s this
process samples the daemon's RSS and CPU from /proc and scrapes /metrics. At
the end it stops writing, waits until the daemon has counted every line, stops
it with SIGTERM and reports memory growth after the warm-up, CPU, line counts,
rotations, lag and checkpoint durations. Results are printed and appended to
benchmarks/RESULTS.md unless --no-record.

The daemon starts warm, as a sidecar that has run for a month would be: a
history archive of --prefill-days of traffic at --prefill-rate lines/s ending
now is read through `--backfill` before tailing, so every ring of the store
(the 3600 s ring spans 30 days) holds data when the warm-up begins and the RSS
growth measured after it is the sidecar's, not an empty store's first fill.
"""

from __future__ import annotations

import argparse
import heapq
import multiprocessing as mp
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import orjson
import yaml
from prometheus_client.parser import text_string_to_metric_families

from slotail.testing.demo import write_history
from slotail.testing.traffic import TrafficModel, generate_lines

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
SHIPPED_CONFIG = ROOT / "config" / "slotail.yaml"

SAMPLE_S = 5.0  # how often the daemon is sampled
RSS_LINE_S = 30.0  # spacing of the RSS-over-time line in the report
BATCH_S = 0.05  # the writer appends a batch this often
LINGER_S = 0.5  # after a rename the writer keeps writing to the old file this long
CHUNK_S = 1.0  # traffic is generated a second at a time
LOOKAHEAD_US = 1_000_000  # generated at least this far ahead of the wall clock
# Requests to bookings, payments and webhooks (28% of them) each log one domain event as well.
LINES_PER_REQUEST = 1.28
SETTLE_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 30.0  # plus the warm start's expected time
PREFILL_LINES_PER_S = 5_000  # a backfill speed low enough for a busy machine (a hang guard only)
STOP_TIMEOUT_S = 30.0
GROWTH_LIMIT = 0.10
TICKS = os.sysconf("SC_CLK_TCK")


# ---- the writer (a child process) --------------------------------------------------------------


class Traffic:
    """Synthetic API lines, each released once the request behind it has finished."""

    def __init__(self, rate: float, start_us: int) -> None:
        self.model = TrafficModel(rate=rate / LINES_PER_REQUEST)
        self.start_us = start_us
        self.chunks = 0
        self.pending: list[tuple[int, int, bytes]] = []
        self.seq = 0

    def _extend(self) -> None:
        """Generate the next second of traffic."""
        offset = self.chunks * CHUNK_S
        start = self.start_us + int(offset * 1_000_000)
        for write_us, line in generate_lines(start, CHUNK_S, self.model, seed=self.chunks, offset_s=offset):
            heapq.heappush(self.pending, (write_us, self.seq, line))
            self.seq += 1
        self.chunks += 1

    def due(self, now_us: int) -> list[bytes]:
        """The lines whose requests finished by `now_us`, in finishing order."""
        while self.start_us + int(self.chunks * CHUNK_S * 1_000_000) < now_us + LOOKAHEAD_US:
            self._extend()
        out = []
        while self.pending and self.pending[0][0] <= now_us:
            out.append(heapq.heappop(self.pending)[2])
        return out


class RotatingLog:
    """api.log, rotated by rename to api.log.1 (dropping the old .1) and create; old fd kept briefly."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = self._create()
        self.next_fd: int | None = None
        self.switch_at = 0.0
        self.rotations = 0

    def _create(self) -> int:
        """Open (creating) api.log for appending."""
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def rotate(self, now: float) -> None:
        """Rename api.log away and create a new one; keep writing to the old file until `LINGER_S`."""
        os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        self.next_fd = self._create()
        self.switch_at = now + LINGER_S
        self.rotations += 1

    def switch(self, now: float) -> None:
        """Once the linger is over, close the renamed file and write to the new api.log."""
        if self.next_fd is not None and now >= self.switch_at:
            os.close(self.fd)
            self.fd, self.next_fd = self.next_fd, None

    def write(self, data: bytes) -> None:
        """Append `data` whole to the current file."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        """Close every descriptor."""
        for fd in (self.fd, self.next_fd):
            if fd is not None:
                os.close(fd)


def writer_main(
    path: str,
    rate: float,
    rotate_every: float,
    written: Synchronized[int],
    rotations: Synchronized[int],
    stop: EventType,
) -> None:
    """Append lines at `rate` per second in 50 ms batches, rotating every `rotate_every` s, until `stop`."""
    log = RotatingLog(Path(path))
    traffic = Traffic(rate, time.time_ns() // 1000)
    started = tick = time.monotonic()
    next_rotation = started + rotate_every
    try:
        while not stop.is_set():
            tick += BATCH_S
            time.sleep(max(0.0, tick - time.monotonic()))
            now = time.monotonic()
            log.switch(now)
            if now >= next_rotation and log.next_fd is None:
                log.rotate(now)
                next_rotation += rotate_every
                rotations.value = log.rotations
            lines = traffic.due(time.time_ns() // 1000)
            if lines:
                log.write(b"\n".join(lines) + b"\n")
                with written.get_lock():
                    written.value += len(lines)
    finally:
        log.close()


@dataclass
class Writer:
    """The writer child and what it shares with this process."""

    process: mp.process.BaseProcess
    written: Synchronized[int]
    rotations: Synchronized[int]
    stop: EventType

    def finish(self) -> tuple[int, int | None]:
        """Stop writing; (the exact number of lines written, the writer's exit code)."""
        self.stop.set()
        self.process.join(30)
        return int(self.written.value), self.process.exitcode


def start_writer(path: Path, rate: float, rotate_every: float) -> Writer:
    """Start the writer in a child process (spawned, so it shares nothing else with this one)."""
    ctx = mp.get_context("spawn")
    written, rotations, stop = ctx.Value("q", 0), ctx.Value("q", 0), ctx.Event()
    args = (str(path), rate, rotate_every, written, rotations, stop)
    process = ctx.Process(target=writer_main, args=args, name="soak-writer", daemon=True)
    process.start()
    return Writer(process, written, rotations, stop)


# ---- the daemon -----------------------------------------------------------------------------------


def write_config(tmp: Path) -> Path:
    """A config with the shipped SLOs and alert policy, tailing `<tmp>/logs/*.log` from the beginning."""
    shipped = yaml.safe_load(SHIPPED_CONFIG.read_text())
    config = {
        "sources": [{"name": "api", "paths": [str(tmp / "logs" / "*.log")], "start_at": "beginning"}],
        "timestamp": {"field": "timestamp"},
        "defaults": shipped.get("defaults", {"period": "30d"}),
        "slos": shipped["slos"],
        "alerts": shipped["alerts"],
    }
    path = tmp / "slotail.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daemon_argv(config: Path, state: Path, port: int, backfill: Path | None = None) -> list[str]:
    """The sidecar's command line (warm-started from `backfill` when given)."""
    warm = ["--backfill", str(backfill)] if backfill is not None else []
    return [
        sys.executable,
        "-m",
        "slotail",
        "--log-format",
        "json",
        "run",
        "--config",
        str(config),
        "--state-dir",
        str(state),
        *warm,
        "--listen",
        f"127.0.0.1:{port}",
    ]


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """(status, body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (OSError, TimeoutError):
        return 0, ""


def wait_ready(proc: subprocess.Popen[bytes], base: str, timeout_s: float) -> None:
    """Wait until /readyz says 200; raise if the daemon exits or takes longer than `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode} during start-up")
        if get(base + "/readyz", 1.0)[0] == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"daemon not ready after {timeout_s:.0f} s")


def stop_daemon(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM and wait; kill if it hangs. Returns the exit code (None if it had to be killed)."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


# ---- sampling -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """The daemon seen from outside at one instant."""

    t_s: float  # since the writer started
    rss_kib: int
    cpu_s: float  # daemon user + system
    writer_cpu_s: float
    machine_busy_s: float  # all CPUs, non-idle
    own_cpu_s: float  # this process
    written: int
    metrics: dict[str, float]

    def metric(self, name: str) -> float | None:
        """One unlabelled sample from /metrics, if it was there."""
        return self.metrics.get(name)

    def counted(self) -> int:
        """Lines the daemon has counted, as of this sample."""
        return counted(self.metrics)


def counted(metrics: dict[str, float]) -> int:
    """sum(slotail_lines_total{source="api", result=~"parsed|invalid"}): the live log, not the history."""
    return int(
        sum(
            v
            for k, v in metrics.items()
            if k.startswith("slotail_lines_total{")
            and 'source="api"' in k
            and ('result="parsed"' in k or 'result="invalid"' in k)
        )
    )


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int | str) -> float:
    """utime + stime of a process in seconds (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_s() -> float:
    """Non-idle CPU seconds of the whole machine since boot (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:7]) - idle) / TICKS  # user nice system idle iowait irq softirq; not steal


def scrape(base: str) -> dict[str, float]:
    """/metrics as {name{labels}: value}; empty if the scrape failed."""
    status, body = get(base + "/metrics")
    if status != 200:
        return {}
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def take_sample(t_s: float, daemon: int, writer: Writer, base: str) -> Sample:
    """Sample the daemon, the writer and the machine."""
    return Sample(
        t_s=t_s,
        rss_kib=rss_kib(daemon),
        cpu_s=cpu_s(daemon),
        writer_cpu_s=cpu_s(writer.process.pid or 0),
        machine_busy_s=machine_busy_s(),
        own_cpu_s=cpu_s("self"),
        written=int(writer.written.value),
        metrics=scrape(base),
    )


def sample_loop(
    proc: subprocess.Popen[bytes], writer: Writer, base: str, seconds: float
) -> tuple[list[Sample], str | None]:
    """Sample every 5 s for `seconds`; stops early (with the reason) if the daemon or writer dies."""
    samples: list[Sample] = []
    start = time.monotonic()
    for k in range(int(seconds // SAMPLE_S) + 1):
        time.sleep(max(0.0, start + k * SAMPLE_S - time.monotonic()))
        if proc.poll() is not None:
            return samples, f"daemon exited with {proc.returncode} at {time.monotonic() - start:.0f} s"
        if not writer.process.is_alive():
            return samples, f"writer exited with {writer.process.exitcode}"
        samples.append(take_sample(time.monotonic() - start, proc.pid, writer, base))
        if k % 12 == 0:
            show_progress(samples[-1])
    return samples, None


def show_progress(s: Sample) -> None:
    """One progress line on stderr."""
    lag = s.metric("slotail_lag_seconds")
    print(
        f"  t={s.t_s:5.0f} s  RSS {s.rss_kib / 1024:6.1f} MiB  written {s.written:,}  "
        f"counted {s.counted():,}  lag {'-' if lag is None else f'{lag:.2f}'} s",
        file=sys.stderr,
    )


def settle(base: str, written: int) -> tuple[int, float]:
    """Wait until the daemon has counted `written` lines (60 s at most); (counted, seconds waited)."""
    start = time.monotonic()
    seen = -1
    while time.monotonic() - start < SETTLE_TIMEOUT_S:
        seen = counted(scrape(base))
        if seen >= written:
            break
        time.sleep(0.5)
    return seen, time.monotonic() - start


# ---- results --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """Everything measured in one soak."""

    samples: list[Sample]
    warm: Sample
    written: int = 0
    counted: int = 0
    settle_s: float = 0.0
    writer_rotations: int = 0
    exit_code: int | None = None
    failure: str | None = None
    stderr_levels: dict[str, int] = field(default_factory=dict)
    stderr_tail: str = ""

    @property
    def after(self) -> list[Sample]:
        """The samples from the end of the warm-up on."""
        return [s for s in self.samples if s.t_s >= self.warm.t_s]

    @property
    def growth(self) -> float:
        """Final RSS over the warm-up RSS, minus 1."""
        return self.after[-1].rss_kib / self.warm.rss_kib - 1

    @property
    def peak_growth(self) -> float:
        """Max RSS after the warm-up over the warm-up RSS, minus 1."""
        return max(s.rss_kib for s in self.after) / self.warm.rss_kib - 1

    def problems(self) -> list[str]:
        """Why the soak failed, if it did."""
        found = [self.failure] if self.failure else []
        if self.counted != self.written:
            found.append(f"daemon counted {self.counted:,} lines of {self.written:,} written")
        if self.growth >= GROWTH_LIMIT:
            found.append(f"RSS grew {self.growth:.1%} after the warm-up (limit {GROWTH_LIMIT:.0%})")
        if self.exit_code != 0:
            found.append(f"daemon exit code {self.exit_code} after SIGTERM (None: killed after 30 s)")
        return found


def cpu_percent(a: Sample, b: Sample, attr: str) -> float:
    """Mean CPU of one core, in %, between two samples."""
    used = float(getattr(b, attr)) - float(getattr(a, attr))
    return 100 * used / (b.t_s - a.t_s)


def values(samples: list[Sample], name: str) -> list[float]:
    """A gauge's values over samples where the daemon reported it."""
    return [v for s in samples if (v := s.metric(name)) is not None]


def mib(kib: float) -> str:
    """KiB as MiB with one decimal."""
    return f"{kib / 1024:.1f}"


def rows(o: Outcome) -> list[tuple[str, str]]:
    """(measure, value) rows of the report table."""
    after, last = o.after, o.after[-1]
    lag = values(o.samples, "slotail_lag_seconds")
    lag_after = values(after, "slotail_lag_seconds")
    ckpt = values(after, "slotail_checkpoint_duration_seconds")
    span = last.t_s - o.warm.t_s
    return [
        ("RSS at end of warm-up", f"{mib(o.warm.rss_kib)} MiB (t={o.warm.t_s:.0f} s)"),
        ("max RSS after warm-up", f"{mib(max(s.rss_kib for s in after))} MiB ({o.peak_growth:+.1%})"),
        ("final RSS", f"{mib(last.rss_kib)} MiB (t={last.t_s:.0f} s)"),
        ("RSS growth (final vs warm-up; limit < 10%)", f"{o.growth:+.1%}"),
        ("store arrays at warm-up / final (slotail_store_bytes)", store_bytes(o.warm, last)),
        ("daemon CPU after warm-up, % of one core", f"{cpu_percent(o.warm, last, 'cpu_s'):.1f}%"),
        ("daemon CPU whole run, % of one core", f"{cpu_percent(o.samples[0], last, 'cpu_s'):.1f}%"),
        ("writer CPU after warm-up, % of one core", f"{cpu_percent(o.warm, last, 'writer_cpu_s'):.1f}%"),
        ("soak window after warm-up", f"{span:.0f} s"),
        ("lines written", f"{o.written:,} ({o.written / max(o.samples[-1].t_s, 1):,.0f}/s)"),
        ("lines counted (parsed + invalid)", f"{o.counted:,} (settled {o.settle_s:.1f} s after stop)"),
        ("rotations: writer / daemon", f"{o.writer_rotations} / {rotations_seen(o)}"),
        ("max lag (all samples)", f"{max(lag):.2f} s" if lag else "n/a"),
        (
            "lag after warm-up, median / max",
            f"{statistics.median(lag_after):.2f} / {max(lag_after):.2f} s" if lag_after else "n/a",
        ),
        (
            "checkpoint duration after warm-up, median / max",
            f"{statistics.median(ckpt) * 1000:.1f} / {max(ckpt) * 1000:.1f} ms ({len(ckpt)} samples)"
            if ckpt
            else "n/a",
        ),
        ("daemon exit code after SIGTERM", str(o.exit_code)),
    ]


def store_bytes(warm: Sample, last: Sample) -> str:
    """The store's own array bytes at two samples: the part of RSS growth that is its rings filling."""
    a, b = warm.metric("slotail_store_bytes"), last.metric("slotail_store_bytes")
    if a is None or b is None:
        return "n/a"
    return f"{a / 2**20:.1f} / {b / 2**20:.1f} MiB ({(b - a) / 2**20:+.1f} MiB)"


def rotations_seen(o: Outcome) -> str:
    """slotail_rotations_total at the last sample."""
    seen = o.samples[-1].metric("slotail_rotations_total")
    return "n/a" if seen is None else f"{seen:.0f}"


def table(o: Outcome) -> str:
    """The results as a Markdown table."""
    body = [f"| {k} | {v} |" for k, v in rows(o)]
    return "\n".join(["| measure | value |", "|---|---|", *body])


def rss_line(samples: list[Sample]) -> str:
    """RSS in MiB every 30 s, as `m:ss value` pairs."""
    picked, next_t = [], 0.0
    for s in samples:
        if s.t_s + 0.5 * SAMPLE_S >= next_t:
            picked.append(f"{int(s.t_s // 60)}:{int(s.t_s % 60):02d} {mib(s.rss_kib)}")
            next_t += RSS_LINE_S
    return ", ".join(picked)


def other_load(o: Outcome) -> str:
    """How busy the machine was with processes other than the daemon, the writer and this one."""
    first, last = o.samples[0], o.samples[-1]
    span = last.t_s - first.t_s
    total = last.machine_busy_s - first.machine_busy_s
    ours = sum(getattr(last, a) - getattr(first, a) for a in ("cpu_s", "writer_cpu_s", "own_cpu_s"))
    other = 100 * (total - ours) / span
    cores = os.cpu_count() or 1
    busy = "machine busy with other work" if other >= 20 else "machine otherwise quiet"
    load = os.getloadavg()
    return (
        f"{busy}: other processes used {other:.0f}% of one core on average "
        f"(machine total {100 * total / span:.0f}% of one core, of {100 * cores}% on {cores} cores); "
        f"load average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def extra_counters(s: Sample) -> str:
    """Line results and dropped/late events at a sample, for the notes."""
    picked = {
        k.replace("slotail_", ""): f"{v:,.0f}"
        for k, v in sorted(s.metrics.items())
        if k.startswith(("slotail_lines_total", "slotail_dropped_events_total", "slotail_late_events_total"))
    }
    return ", ".join(f"{k} {v}" for k, v in picked.items()) or "no metrics"


def notes(o: Outcome) -> list[str]:
    """Observations under the table."""
    out = [
        f"RSS MiB every 30 s (t = m:ss since writing started): {rss_line(o.samples)}",
        f"Counters at the last sample: {extra_counters(o.samples[-1])}",
        "Lag and checkpoint duration are gauges read at each 5 s sample (the last checkpoint's "
        "duration), not every checkpoint",
        f"Daemon stderr by level: {orjson.dumps(o.stderr_levels).decode()}",
        other_load(o),
    ]
    problems = o.problems()
    out.append("Result: " + ("PASS" if not problems else "FAIL — " + "; ".join(problems)))
    if problems and o.stderr_tail:
        out.append(f"Daemon stderr tail:\n\n```\n{o.stderr_tail}\n```")
    return out


def read_stderr(path: Path, lines: int = 20) -> tuple[dict[str, int], str]:
    """The daemon's stderr: counts of log records by level, and its last lines."""
    text = path.read_text(errors="replace") if path.exists() else ""
    levels: Counter[str] = Counter()
    for line in text.splitlines():
        try:
            levels[str(orjson.loads(line).get("level", "?"))] += 1
        except (orjson.JSONDecodeError, AttributeError):
            levels["not-json"] += 1
    return dict(levels), "\n".join(text.splitlines()[-lines:])


# ---- recording -------------------------------------------------------------------------------------


def git(*args: str) -> str:
    """Output of a git command in the repository, or `unknown`."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.rstrip("\n")


def tree_state() -> str:
    """`clean`, or `dirty` with the top-level paths that differ (ignoring RESULTS.md)."""
    changed = set()
    for entry in git("status", "--porcelain").splitlines():
        path = entry[3:].strip('"')
        if path != "benchmarks/RESULTS.md":
            changed.add(path.split("/")[0] + ("/" if "/" in path else ""))
    return f"dirty ({', '.join(sorted(changed))})" if changed else "clean"


def proc_field(path: str, key: str) -> str:
    """The value of the first `key: value` line of a /proc file, or `unknown`."""
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return "unknown"


def machine() -> str:
    """CPU model, cores, RAM, OS and Python version."""
    mem = proc_field("/proc/meminfo", "MemTotal").split()
    ram = f"{int(mem[0]) / 1024**2:.1f} GiB RAM" if mem and mem[0].isdigit() else "RAM unknown"
    return (
        f"{proc_field('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores, {ram}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def shown(argv: list[str]) -> str:
    """A command line for humans: paths under the repository made relative to it."""
    parts = [os.path.relpath(a, ROOT) if a.startswith(str(ROOT) + os.sep) else a for a in argv]
    return shlex.join(parts)


@dataclass(frozen=True)
class Run:
    """What was run, where and when; the tree is recorded at the start, when the daemon loads its code."""

    args: argparse.Namespace
    tmp: Path
    daemon: list[str]
    started: datetime
    commit: str
    tree: str


def section(run: Run, o: Outcome) -> str:
    """The dated Markdown section appended to RESULTS.md."""
    args, started, commit = run.args, run.started, run.commit
    body = [
        f"## Soak — {started:%Y-%m-%d %H:%M} UTC — {commit}",
        "",
        "The `slotail run` sidecar tailing one live log with the shipped SLOs and google-30d alerts; "
        "a child process writes the log and rotates it (rename + create, old fd kept "
        f"{LINGER_S} s); RSS and CPU from /proc, health from /metrics, every {SAMPLE_S:.0f} s.",
        "",
        f"- Command: `{shown([sys.executable, *sys.argv])}` (in {ROOT})",
        f"- Date: {started:%Y-%m-%dT%H:%M:%SZ} (start), {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} (end)",
        f"- Machine: {machine()}",
        f"- slotail: commit {commit}, tree {run.tree} (at the start)",
        f"- Parameters: --minutes {args.minutes:g} --rate {args.rate:g} --rotate-every "
        f"{args.rotate_every:g} --warmup {args.warmup:g} --prefill-days {args.prefill_days:g} "
        f"--prefill-rate {args.prefill_rate:g}; batches every {BATCH_S * 1000:.0f} ms",
        f"- Daemon: `{shown(run.daemon).replace(str(run.tmp), '<tmp>')}`, stderr to <tmp>/daemon.stderr",
        "",
        table(o),
        "",
        *[f"- {note}" for note in notes(o)],
    ]
    return "\n".join([*body, ""])


# ---- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="soak after the warm-up (default 10)")
    parser.add_argument("--rate", type=float, default=5000, help="lines per second (default 5000)")
    parser.add_argument("--rotate-every", type=float, default=30, help="seconds between rotations (30)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up minutes, not judged (default 2)")
    parser.add_argument(
        "--prefill-days", type=float, default=30, help="history read at start, days (default 30; 0: none)"
    )
    parser.add_argument("--prefill-rate", type=float, default=1.0, help="history lines/s (default 1)")
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (kept anyway on failure)")
    args = parser.parse_args(argv)
    if args.minutes * 60 < SAMPLE_S or args.rate <= 0 or args.warmup < 0:
        parser.error("--minutes must cover one 5 s sample, --rate must be positive, --warmup not negative")
    if args.rotate_every <= 2 * LINGER_S:
        parser.error(f"--rotate-every must exceed {2 * LINGER_S} s")
    return args


def soak(args: argparse.Namespace, tmp: Path, daemon: list[str], base: str, prefill_lines: int) -> Outcome:
    """Run the daemon and the writer, sample, stop both and collect what was measured."""
    stderr_path = tmp / "daemon.stderr"
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen(daemon, stdout=subprocess.DEVNULL, stderr=err, cwd=tmp)
    writer: Writer | None = None
    try:
        started = time.monotonic()
        wait_ready(proc, base, READY_TIMEOUT_S + prefill_lines / PREFILL_LINES_PER_S)
        print(f"  daemon ready after {time.monotonic() - started:.0f} s (warm start)", file=sys.stderr)
        writer = start_writer(tmp / "logs" / "api.log", args.rate, args.rotate_every)
        samples, failure = sample_loop(proc, writer, base, (args.warmup + args.minutes) * 60)
        if not samples:
            raise RuntimeError(failure or "no samples")
        warm = next((s for s in samples if s.t_s >= args.warmup * 60 - 0.5 * SAMPLE_S), samples[-1])
        o = Outcome(samples, warm, failure=failure)
        o.written, writer_exit = writer.finish()
        if writer_exit != 0 and o.failure is None:
            o.failure = f"writer exited with {writer_exit}"
        o.writer_rotations = int(writer.rotations.value)
        print(f"  writer stopped: {o.written:,} lines; waiting for the daemon", file=sys.stderr)
        if proc.poll() is None:
            o.counted, o.settle_s = settle(base, o.written)
        o.exit_code = stop_daemon(proc)
    finally:
        if writer is not None and writer.process.is_alive():
            writer.process.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    o.stderr_levels, o.stderr_tail = read_stderr(stderr_path)
    return o


def main(argv: list[str] | None = None) -> int:
    """Soak, print, record; exit 1 on lost or doubled lines, RSS growth of 10% or more, or a failure."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="slotail-soak-"))
    (tmp / "logs").mkdir()
    print(
        f"soak: writing {args.prefill_days:g} days of history at {args.prefill_rate:g} lines/s",
        file=sys.stderr,
    )
    now_us = time.time_ns() // 1000 - LOOKAHEAD_US
    requests_per_s = args.prefill_rate / LINES_PER_REQUEST
    history = write_history(tmp / "archive", args.prefill_days * 24, requests_per_s, 7, now_us)
    prefill_lines = int(args.prefill_days * 86400 * args.prefill_rate)  # about: for the ready timeout
    daemon = daemon_argv(write_config(tmp), tmp / "state", free_port(), history)
    base = "http://" + daemon[-1]
    run = Run(args, tmp, daemon, datetime.now(UTC), git("rev-parse", "--short", "HEAD"), tree_state())
    total = args.warmup + args.minutes
    print(f"soak: {total:g} min ({args.warmup:g} warm-up) at {args.rate:g} lines/s in {tmp}", file=sys.stderr)
    o = soak(args, tmp, daemon, base, prefill_lines)
    text = section(run, o)
    print(text)
    if not args.no_record:
        with RESULTS.open("a") as out:
            out.write("\n" + text)
    problems = o.problems()
    if problems or args.keep:
        print(f"soak: kept {tmp} (daemon stderr in daemon.stderr)", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
