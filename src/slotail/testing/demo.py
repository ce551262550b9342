"""`slotail demo`: live synthetic API traffic with incidents and rotations, for the sidecar to tail."""

from __future__ import annotations

import gzip
import logging
import os
import signal
import time
from pathlib import Path

from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import US, iso_utc

logger = logging.getLogger("slotail.demo")
CYCLE_S = 10 * 60  # one incident every cycle, kinds taking turns


def incidents(start_s: float, end_s: float) -> list[Incident]:
    """Incidents every CYCLE_S between two offsets: an API outage, failing payments, slow responses."""
    kinds = [
        ("errors", 0.8, "api", 6 * 60),  # API outage: pages (1h burn ≥ 14.4 on api-availability)
        ("errors", 0.5, "payment", 8 * 60),
        ("latency", 12.0, "all", 8 * 60),
    ]
    found, cycle = [], int(start_s // CYCLE_S)
    while cycle * CYCLE_S < end_s:
        kind, severity, target, length = kinds[cycle % len(kinds)]
        found.append(Incident(cycle * CYCLE_S + 120, length, kind, severity, target))
        cycle += 1
    return found


def write_history(folder: Path, hours: float, rate: float, seed: int, now_us: int) -> Path | None:
    """The `hours` before now as one gzip archive (skipped if it exists), for the sidecar's warm start.

    Written an hour of traffic at a time, so a month of history never sits in memory at once.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "api-history.log.gz"
    if path.exists() or hours <= 0:
        return None
    model = TrafficModel(rate=rate)  # a quiet past: baseline errors only
    start_us, end_us, written, hour = now_us - int(hours * 3600 * US), now_us, 0, 0
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wb", compresslevel=5) as out:
        while start_us < end_us:
            seconds = min(3600.0, (end_us - start_us) / US)
            lines = [line for _, line in sorted(generate_lines(start_us, seconds, model, seed + hour))]
            out.write(b"".join(line + b"\n" for line in lines))
            written += len(lines)
            start_us += int(seconds * US)
            hour += 1
    partial.replace(path)  # complete or absent, never half-written
    logger.info("wrote history", extra={"path": str(path), "hours": hours, "lines": written})
    return path


class LiveWriter:
    """Appends lines to `api.log` as their time comes, rotating it by rename + create."""

    def __init__(self, folder: Path, rotate_every_s: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "api.log"
        self.rotate_every_s = rotate_every_s
        self._file = open(self.path, "ab")  # noqa: SIM115 - kept open like a logger's
        self._opened = time.monotonic()

    def write(self, lines: list[bytes]) -> None:
        self._file.write(b"".join(line + b"\n" for line in lines))
        self._file.flush()
        if time.monotonic() - self._opened >= self.rotate_every_s:
            self.rotate()

    def rotate(self) -> None:
        """Rename api.log to api.log.1 (dropping the older one) and start a new api.log."""
        os.replace(self.path, self.path.with_name("api.log.1"))
        self._file.close()
        self._file = open(self.path, "ab")  # noqa: SIM115
        self._opened = time.monotonic()

    def close(self) -> None:
        self._file.close()


def run_demo(folder: Path, rate: float, rotate_every_s: float, seed: int) -> None:
    """Write traffic in real time until SIGINT or SIGTERM."""
    now = time.time_ns() // 1000
    stop = False

    def halt(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, halt)
    signal.signal(signal.SIGTERM, halt)
    writer, start_us, step = LiveWriter(folder, rotate_every_s), now, 0
    logger.info("writing live traffic", extra={"path": str(writer.path), "rate": rate, "since": iso_utc(now)})
    pending: list[tuple[int, bytes]] = []
    try:
        while not stop:
            model = TrafficModel(rate=rate, incidents=incidents(step - CYCLE_S, step + CYCLE_S))
            pending += generate_lines(start_us + step * US, 1.0, model, seed + step + 1, offset_s=float(step))
            step += 1
            pending.sort()
            now = time.time_ns() // 1000
            due = [line for at, line in pending if at <= now]
            pending = [(at, line) for at, line in pending if at > now]
            writer.write(due)
            time.sleep(max(0.0, (start_us + step * US - time.time_ns() // 1000) / US))
    finally:
        writer.close()
