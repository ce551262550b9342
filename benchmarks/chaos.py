"""Chaos soak: a real `slotail run` under random rotations, SIGTERM restarts and kill -9, against the truth.

A writer thread appends request lines (tests.sidecar.Truth counts each before it
is written: an upper bound at any moment) to logs/api.log through a held-open
descriptor, as a logger does. A chaos loop, at random moments, rotates the log
(rename + create, copytruncate, delete while open: the writer puts one more
batch into the old descriptor before it reopens) or stops the daemon and starts
it again. Between actions /metrics is scraped every 0.2 s and must never exceed
what was written nor go below an earlier scrape.

Two phases: in the first, every stop is a SIGTERM and the counts must end equal
to the truth exactly; in the second, stops are kill -9 or SIGTERM at random,
and counts must stay within the truth and never go backwards; at the end the
shortfall, if any, is reported (lines written into a deleted file after the last
commit before a kill -9 cannot be read again by anyone).

    .venv/bin/python benchmarks/chaos.py [--seconds 150] [--seed N] [--no-record] [--keep]
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from soak import git, machine, shown, tree_state

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.sidecar import LogWriter, Sidecar, Truth, config_text, observed  # noqa: E402

RESULTS = HERE / "RESULTS.md"
BATCH_EVERY_S = 0.02
BATCH_LINES = 20  # plus Truth.noise's 7 lines (1 unmatched, 5 invalid, 1 empty that is not counted)
ACTION_GAP_S = (0.4, 2.5)
# With polling (`--discovery poll`, or where inotify is missing) a file is read only once a rescan (every
# 1 s) has seen it under the glob: one renamed out of the glob or deleted sooner is never read (README,
# Sources). Rotations are kept further apart, so the soak holds with either discovery.
MIN_ROTATION_GAP_S = 1.5
SCRAPE_S = 0.2
SETTLE_TIMEOUT_S = 60.0


class Writer:
    """Appends batches to the live log; rotations take its lock so no batch lands mid-rotation."""

    def __init__(self, logs: Path, truth: Truth) -> None:
        self.logs, self.truth = logs, truth
        self.lock = threading.Lock()
        self.log = LogWriter(logs / "api.log")
        self.rotated = 0
        self.rotated_at = -MIN_ROTATION_GAP_S
        self.paused = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            if not self.paused.is_set():
                with self.lock:
                    self.log.write(self.truth.batch(BATCH_LINES))
            time.sleep(BATCH_EVERY_S)

    def rotate(self, kind: str, watch: Watch, sidecar: Sidecar) -> None:
        """One rotation: rename, copytruncate or delete, at least MIN_ROTATION_GAP_S after the last one."""
        watch.idle(sidecar, self.rotated_at + MIN_ROTATION_GAP_S - time.monotonic())
        self.rotated_at = time.monotonic()
        with self.lock:
            self.rotated += 1
            live = self.logs / "api.log"
            if kind == "copytruncate":
                shutil.copyfile(live, self.logs / f"api.log.{self.rotated}")
                live.write_bytes(b"")  # truncate; the writer's O_APPEND goes on from 0
                return
            if kind == "rename":
                live.rename(self.logs / f"api.log.{self.rotated}")
            else:
                live.unlink()
            self.log.write(self.truth.batch(BATCH_LINES))  # a late write through the old descriptor
            old, self.log = self.log, LogWriter(live)
            old.close()


@dataclass
class Watch:
    """Scrapes of the daemon: never above the truth, never below an earlier scrape."""

    truth: Truth
    last: dict[tuple[str, ...], int] = field(default_factory=dict)
    scrapes: int = 0
    violations: list[str] = field(default_factory=list)

    def check(self, sidecar: Sidecar) -> None:
        try:
            seen = observed(sidecar.metrics(), self.truth)
        except (OSError, AssertionError):
            return  # between a stop and a start
        written = self.truth.expected()  # read after the scrape: every line counted was written before it
        self.scrapes += 1
        for key, value in seen.items():
            if value > written[key]:
                self.violations.append(f"{key} = {value} > written {written[key]}")
            if value < self.last.get(key, 0):
                self.violations.append(f"{key} went back from {self.last[key]} to {value}")
        self.last = {k: max(v, self.last.get(k, 0)) for k, v in seen.items()}

    def idle(self, sidecar: Sidecar, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check(sidecar)
            time.sleep(SCRAPE_S)


@dataclass
class Phase:
    """What one phase did and how it ended."""

    name: str
    seconds: float
    actions: Counter[str] = field(default_factory=Counter)
    written: dict[tuple[str, ...], int] = field(default_factory=dict)
    counted: dict[tuple[str, ...], int] = field(default_factory=dict)
    exit_codes: Counter[int] = field(default_factory=Counter)


ROTATIONS = ("rename", "copytruncate", "delete")


def chaos(
    phase: Phase, sidecar: Sidecar, writer: Writer, watch: Watch, rng: random.Random, allowed: set[str]
) -> None:
    """Random actions for `phase.seconds`; the daemon is running at the end."""
    choices = [a for a in (*ROTATIONS, "sigterm", "kill9") if a in allowed]
    deadline = time.monotonic() + phase.seconds
    while time.monotonic() < deadline:
        watch.idle(sidecar, rng.uniform(*ACTION_GAP_S))
        action = rng.choice(choices)
        phase.actions[action] += 1
        if action in ROTATIONS:
            writer.rotate(action, watch, sidecar)
            continue
        code = sidecar.stop(signal.SIGKILL if action == "kill9" else signal.SIGTERM)
        phase.exit_codes[code] += 1
        watch.idle(sidecar, rng.uniform(0.0, 1.0))  # lines (and maybe rotations) pile up while it is down
        while_down = [
            a for a in ("rename", "copytruncate") if a in allowed
        ]  # not delete: nobody could read it
        if while_down and rng.random() < 0.5:
            action = rng.choice(while_down)
            phase.actions[f"{action} while down"] += 1
            writer.rotate(action, watch, sidecar)
        sidecar.start()


def settle(sidecar: Sidecar, writer: Writer, watch: Watch, phase: Phase) -> None:
    """Stop writing, wait until the counters reach the truth or stay put for 3 s, then resume."""
    writer.paused.set()
    time.sleep(BATCH_EVERY_S * 3)
    phase.written = writer.truth.expected()
    deadline, still_since = time.monotonic() + SETTLE_TIMEOUT_S, time.monotonic()
    last: dict[tuple[str, ...], int] = {}
    while time.monotonic() < deadline:
        watch.check(sidecar)
        now = dict(watch.last)
        if now == phase.written:
            break
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since > 3.0:
            break
        time.sleep(SCRAPE_S)
    phase.counted = dict(watch.last)
    writer.paused.clear()


def report(args: argparse.Namespace, phases: list[Phase], watch: Watch, final: dict[str, float]) -> str:
    first, second = phases
    exact = first.counted == first.written
    within = not watch.violations
    lines = [
        f"## Chaos soak — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {git('rev-parse', '--short', 'HEAD')}",
        "",
        "The `slotail run` sidecar on one live log, under random rotations (rename + create, copytruncate, "
        "delete while open), SIGTERM restarts and kill -9, scraped every 0.2 s against the lines written.",
        "",
        f"- Command: `{shown([sys.executable, *sys.argv])}` (in {ROOT}); seed {args.seed}",
        f"- Machine: {machine()}",
        f"- slotail: commit {git('rev-parse', '--short', 'HEAD')}, tree {tree_state()}",
        f"- Writer: {BATCH_LINES} requests + 7 noise lines every {BATCH_EVERY_S * 1000:.0f} ms; "
        f"actions every {ACTION_GAP_S[0]}–{ACTION_GAP_S[1]} s; "
        f"rotations {MIN_ROTATION_GAP_S} s apart or more",
        "",
        "| phase | seconds | actions | daemon exits | lines written (parsed / invalid) | lines counted | "
        "events written = counted |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        acts = ", ".join(f"{k} {v}" for k, v in sorted(p.actions.items()))
        exits = ", ".join(f"{k}: {v}" for k, v in sorted(p.exit_codes.items()))
        w, c = p.written, p.counted
        events = all(c.get(k) == v for k, v in w.items() if k[0] == "events")
        written = f"{w['lines', 'parsed']:,} / {w['lines', 'invalid']:,}"
        counted = f"{c.get(('lines', 'parsed'), 0):,} / {c.get(('lines', 'invalid'), 0):,}"
        same = "yes" if events else "no"
        lines.append(f"| {p.name} | {p.seconds:.0f} | {acts} | {exits} | {written} | {counted} | {same} |")
    rotations = sum(
        v
        for p in phases
        for k, v in p.actions.items()
        if k.split()[0] in ("rename", "copytruncate", "delete")
    )
    kills = second.actions["kill9"]
    restarts = sum(p.actions["sigterm"] + p.actions["kill9"] for p in phases)
    short = {
        k: v - second.counted.get(k, 0) for k, v in second.written.items() if v != second.counted.get(k, 0)
    }
    lines += [
        "",
        f"- Totals: {rotations} rotations, {kills} kill -9, {restarts} restarts, {watch.scrapes:,} scrapes; "
        f"daemon saw {final.get('rotations', 0):.0f} rotations and "
        f"{final.get('truncations', 0):.0f} truncations",
        f"- Phase 1 (SIGTERM only) ends exact: {'yes' if exact else 'NO'}",
        f"- Never above the lines written, never backwards (every scrape): {'yes' if within else 'NO'}",
        f"- Phase 2 shortfall at the end: {short or 'none'}",
    ]
    if watch.violations:
        lines.append(f"- Violations (first 5): {watch.violations[:5]}")
    lines.append(f"- Result: {'PASS' if exact and within else 'FAIL'}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=150.0, help="both phases together (40%% / 60%%)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--actions",
        default="rename,copytruncate,delete,sigterm,kill9",
        help="the actions to draw from (comma-separated; kill9 only in phase 2)",
    )
    args = parser.parse_args()
    args.seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="slotail-chaos-"))
    logs = tmp / "logs"
    logs.mkdir()
    config = tmp / "slotail.yaml"
    config.write_text(config_text(logs))
    truth = Truth()
    writer, watch, sidecar = Writer(logs, truth), Watch(truth), Sidecar(tmp, config)
    phases = [Phase("1: rotations + SIGTERM", args.seconds * 0.4), Phase("2: + kill -9", args.seconds * 0.6)]
    ok = False
    try:
        writer.thread.start()
        sidecar.start()
        allowed = set(args.actions.split(","))
        for phase, kills in zip(phases, (False, True), strict=True):
            chaos(phase, sidecar, writer, watch, rng, allowed if kills else allowed - {"kill9"})
            settle(sidecar, writer, watch, phase)
        writer.done.set()
        samples = sidecar.metrics()
        final = {
            k: samples.get((f"slotail_{k}_total", frozenset()), 0.0) for k in ("rotations", "truncations")
        }
        sidecar.stop(signal.SIGTERM)
        text = report(args, phases, watch, final)
        ok = "Result: PASS" in text
        print(text)
        if not args.no_record:
            with open(RESULTS, "a") as out:
                out.write("\n" + text)
    finally:
        writer.done.set()
        sidecar.close()
        if args.keep or not ok:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
