"""Backfill throughput: `slotail backfill` against a bare orjson loop (and mtail, when installed).

A case is a generated corpus and a config (with an mtail program doing the same work). In each
case every tool reads the case's corpus in its own child process, several times; the runs of
all cases are interleaved. Wall time, CPU time (os.wait4) and the child's peak RSS (GNU time's
%M) are measured per run and medians are reported per case. Results are printed and appended
to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from corpus import ensure_corpus

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
MTAIL_PROGS = HERE / "mtail"
ORJSON_LOOP = HERE / "orjson_loop.py"
SLOTAIL, SLOTAIL_ONE, LOOP, MTAIL = "slotail backfill", "slotail backfill, 1 worker", "orjson loop", "mtail"


@dataclass(frozen=True)
class Case:
    """What is measured: a corpus shape, a config, the mtail program doing the same work, the aim."""

    name: str
    shape: str  # corpus.py's --shape
    config: Path
    mtail_program: Path
    min_vs_loop: float  # issue 15's floor for slotail (workers auto) against the orjson loop
    min_vs_mtail: float | None = None
    max_tree_mib: float | None = None

    def target(self) -> str:
        """Issue 15's acceptance for this case, in words."""
        parts = [f"≥ {self.min_vs_loop}× the loop"]
        if self.min_vs_mtail is not None:
            parts.append(f"≥ {self.min_vs_mtail:g}× mtail")
        if self.max_tree_mib is not None:
            parts.append(f"tree PSS ≤ {self.max_tree_mib:g} MiB")
        return ", ".join(parts)

    def met(self, rows: dict[str, dict[str, float]]) -> bool:
        """Whether the medians of slotail (workers auto) meet the target."""
        vs_loop, vs_mtail = ratio(rows, SLOTAIL, LOOP), ratio(rows, SLOTAIL, MTAIL)
        if vs_loop is None or vs_loop < self.min_vs_loop:
            return False
        if self.min_vs_mtail is not None and (vs_mtail is None or vs_mtail < self.min_vs_mtail):
            return False
        return self.max_tree_mib is None or rows[SLOTAIL]["tree_mib"] <= self.max_tree_mib


CONFIGS = HERE / "configs"
CASES = {
    case.name: case
    for case in (
        Case("base", "seed000", ROOT / "config" / "slotail.yaml", MTAIL_PROGS / "api.mtail", 0.8, 5, 300),
        Case("iso-ids", "iso-ids", CONFIGS / "iso-ids.yaml", MTAIL_PROGS / "iso-ids.mtail", 0.8, 5, 300),
        Case("twenty-slos", "seed000", CONFIGS / "twenty-slos.yaml", MTAIL_PROGS / "twenty-slos.mtail", 0.5),
        Case("grouped", "iso-ids", CONFIGS / "grouped.yaml", MTAIL_PROGS / "grouped.mtail", 0.4),
    )
}


@dataclass(frozen=True)
class Tool:
    """A contender in a case: a name and the command that reads the case's corpus."""

    case: str
    name: str
    argv: list[str]


@dataclass(frozen=True)
class Run:
    """One child process: its timings, peak RSS and outputs."""

    case: str
    tool: str
    wall_s: float
    cpu_s: float
    peak_rss_kib: int
    peak_tree_pss_kib: int
    exit_code: int
    stdout: bytes
    stderr: bytes


def shown(argv: list[str]) -> str:
    """A command line for humans: paths under the repository made relative to it."""
    parts = [os.path.relpath(a, ROOT) if a.startswith(str(ROOT) + os.sep) else a for a in argv]
    return shlex.join(parts)


def find_gnu_time() -> str | None:
    """The path of GNU time (`/usr/bin/time`), if installed."""
    binary = shutil.which("time")
    if binary is None:
        return None
    probe = subprocess.run([binary, "--version"], capture_output=True, check=False)
    return binary if b"GNU" in probe.stdout + probe.stderr else None


def rss_method(gnu_time: str | None) -> str:
    """How peak RSS is measured, for the record."""
    if gnu_time is not None:
        return "GNU time's %M of the child"
    return (
        "os.wait4's ru_maxrss (no GNU time); on Linux it also counts this process's own peak, "
        "so it is an upper bound"
    )


def children(pid: int) -> list[int]:
    """A process's child processes, from each of its threads' /proc `children` list."""
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                kids += map(int, listed.read().split())
    except OSError:  # it (or a thread) just exited
        pass
    return kids


def tree_pss_kib(root: int) -> int:
    """PSS (KiB) of a process and all its descendants, from /proc (0 where unreadable).

    The tree is walked down from `root` by its `children` lists: scanning every process's `stat`
    cost ~2 ms of CPU a sample, taken from slotail's two busy cores 10 times a second."""
    tree, frontier = [root], [root]
    while frontier:
        kids = children(frontier.pop())
        tree += kids
        frontier += kids
    found = [proc_field(f"/proc/{pid}/smaps_rollup", "Pss") for pid in tree]
    return sum(int(pss.split()[0]) for pss in found if pss != "unknown")  # read once: one may just exit


class TreeSampler(threading.Thread):
    """Samples a process tree's PSS every 0.1 s; `peak` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            self.peak = max(self.peak, tree_pss_kib(self.pid))


def run_child(tool: Tool, gnu_time: str | None) -> Run:
    """Run a tool to completion in the repository root: time and CPU from os.wait4, RSS from GNU time.

    os.wait4's ru_maxrss alone would not do: Linux carries the parent's peak RSS
    over into the child at exec, so every child would weigh at least as much as
    this process. GNU time reports the largest single process; the whole tree's
    PSS (parent and worker processes, shared pages split between them) is sampled
    every 0.1 s.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        argv = tool.argv if gnu_time is None else [gnu_time, "-f", "%M", "-o", rss.name, *tool.argv]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        reported = rss.read().split()
        out.seek(0)
        err.seek(0)
        return Run(
            case=tool.case,
            tool=tool.name,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_kib=int(reported[-1]) if reported and reported[-1].isdigit() else usage.ru_maxrss,
            peak_tree_pss_kib=sampler.peak,
            exit_code=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
        )


def count_lines(path: Path) -> int:
    """Lines in a file (this also warms the page cache for the first run)."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def find_mtail() -> tuple[str | None, str | None]:
    """(path of Google's mtail, None), or (None, why the mtail runs are skipped)."""
    binary = shutil.which("mtail")
    if binary is None:
        return None, "no `mtail` on PATH"
    try:
        probe = subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"`mtail --version` failed: {exc}"
    if b"mtail version" not in probe.stdout + probe.stderr:
        return None, f"{binary} is not Google's mtail"
    return binary, None


def slotail_tool(case: str, name: str, config: Path, corpus: Path, workers: str) -> Tool:
    """`slotail backfill` with JSON output and a number of workers."""
    argv = [sys.executable, "-m", "slotail", "backfill", "--config", str(config), "--format", "json"]
    return Tool(case, name, [*argv, "--no-progress", "--workers", workers, str(corpus)])


def tools(case: Case, corpus: Path, mtail_corpus: Path, mtail: str | None) -> list[Tool]:
    """A case's contenders, each reading `corpus` (mtail its UTF-8-clean twin, see `mtail_safe`)."""
    found = [
        slotail_tool(case.name, SLOTAIL, case.config, corpus, "auto"),
        slotail_tool(case.name, SLOTAIL_ONE, case.config, corpus, "1"),
        Tool(case.name, LOOP, [sys.executable, str(ORJSON_LOOP), str(corpus)]),
    ]
    if mtail is not None:
        found.append(Tool(case.name, MTAIL, mtail_argv(mtail, case.mtail_program, mtail_corpus)))
    return found


def mtail_argv(mtail: str, program: Path, corpus: Path) -> list[str]:
    """mtail in one-shot mode running one program over a file, printing Prometheus text."""
    return [
        mtail,
        "--one_shot",
        "--one_shot_format=prometheus",
        "--progs",
        str(program),
        "--logs",
        str(corpus),
        "--logtostderr",
        # It serves HTTP even in one-shot mode, by default on :3903 of every interface: a second
        # mtail at the same time (another benchmark on this shared machine) would fail to start.
        "--address",
        "127.0.0.1",
        "--port",
        "0",
    ]


def mtail_safe(corpus: Path) -> Path:
    """The corpus with each line that is not UTF-8 replaced by as many `#` (still invalid for slotail).

    mtail 3.0.0~rc50 (Debian) stops matching at the first invalid UTF-8 byte of a
    file and then buffers the rest without ever ending a line: on the corpus itself
    it ran 12 minutes at 1.3 GiB before being stopped. The twin has the same lines,
    bytes and valid lines, so mtail can be timed and its counts compared.
    """
    twin = corpus.with_suffix(".mtail.log")
    if twin.exists() and twin.stat().st_mtime >= corpus.stat().st_mtime:
        return twin
    with corpus.open("rb") as src, twin.with_suffix(".partial").open("wb") as out:
        for line in src:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                line = b"#" * (len(line) - 1) + b"\n"
            out.write(line)
    os.replace(twin.with_suffix(".partial"), twin)
    return twin


def mtail_probe(mtail: str, program: Path, corpus: Path, lines: int = 20_000) -> str:
    """What mtail counts on the first `lines` lines of the corpus itself, against its UTF-8-clean twin."""
    with tempfile.TemporaryDirectory() as tmp:
        counts = []
        for name, source in (("raw", corpus), ("clean", mtail_safe(corpus))):
            head = Path(tmp) / f"{name}.log"
            with source.open("rb") as src:
                head.write_bytes(b"".join(itertools.islice(src, lines)))
            argv = mtail_argv(mtail, program, head)
            done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
            counts.append(sum(mtail_slo_events(done.stdout).values()))
    return (
        f"mtail on the first {lines:,} lines of the corpus itself counts {counts[0]:,} SLO events, "
        f"{counts[1]:,} once the lines that are not UTF-8 are blanked out: it stops matching at the "
        "first invalid UTF-8 line, hence the twin file"
    )


SeriesKey = tuple[str, tuple[tuple[str, str], ...], str]  # (SLO, its group labels, outcome)
MTAIL_SLO_METRICS = ("slo_events_total", "slo_group_events_total")  # the latter for grouped SLOs
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def mtail_slo_events(stdout: bytes) -> dict[SeriesKey, int]:
    """mtail's SLO event counts by (slo, group labels, outcome), from its Prometheus text."""
    found: dict[SeriesKey, int] = {}
    for line in stdout.decode(errors="replace").splitlines():
        name, brace, rest = line.partition("{")
        if name not in MTAIL_SLO_METRICS or not brace:
            continue
        labels, value = rest.rsplit("} ", 1)
        pairs = dict(LABEL.findall(labels))
        slo, outcome = pairs.pop("slo"), pairs.pop("outcome")
        pairs.pop("prog", None)
        key = (slo, tuple(sorted(pairs.items())), outcome)
        found[key] = found.get(key, 0) + int(float(value))
    return found


def slotail_slo_events(stdout: bytes) -> dict[SeriesKey, int]:
    """slotail's non-zero `events` by (slo, group labels, outcome), from its JSON report."""
    return {
        (slo["name"], tuple(sorted(slo.get("labels", {}).items())), outcome): count
        for slo in orjson.loads(stdout)["slos"]
        for outcome, count in slo["events"].items()
        if count
    }


def measure(cases: list[list[Tool]], repeat: int, gnu_time: str | None) -> list[Run]:
    """Run every case's tools `repeat` times, interleaved across cases, rotating which tool goes first."""
    runs = []
    for rep in range(repeat):
        for contenders in cases:
            shift = rep % len(contenders)
            for tool in contenders[shift:] + contenders[:shift]:
                run = run_child(tool, gnu_time)
                print(
                    f"  run {rep + 1}/{repeat} {tool.case} / {tool.name}: {run.wall_s:.1f} s, "
                    f"{run.peak_rss_kib / 1024:.0f} MiB, exit {run.exit_code}",
                    file=sys.stderr,
                )
                runs.append(run)
    return runs


def median_row(name: str, runs: list[Run], lines: int) -> dict[str, float]:
    """Median wall time, lines/s, peak RSS and CPU time over one tool's successful runs (of one case)."""
    mine = [r for r in runs if r.tool == name and r.exit_code == 0]
    return {
        "wall_s": statistics.median(r.wall_s for r in mine),
        "lines_per_s": statistics.median(lines / r.wall_s for r in mine),
        "rss_mib": statistics.median(r.peak_rss_kib / 1024 for r in mine),
        "tree_mib": statistics.median(r.peak_tree_pss_kib / 1024 for r in mine),
        "cpu_s": statistics.median(r.cpu_s for r in mine),
    }


def table(rows: dict[str, dict[str, float]], runs: list[Run]) -> str:
    """The medians as a Markdown table, with every run's wall time."""
    out = [
        "| tool | median wall s | median lines/s | median peak RSS MiB | median peak tree PSS MiB "
        "| median CPU s | all runs wall s |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        walls = ", ".join(
            f"{r.wall_s:.2f}" + (f" (exit {r.exit_code})" if r.exit_code else "")
            for r in runs
            if r.tool == name
        )
        out.append(
            f"| {name} | {row['wall_s']:.2f} | {row['lines_per_s']:,.0f} | {row['rss_mib']:.0f} "
            f"| {row['tree_mib']:.0f} | {row['cpu_s']:.2f} | {walls} |"
        )
    return "\n".join(out)


def ratio(rows: dict[str, dict[str, float]], name: str, other: str) -> float | None:
    """`name`'s median throughput as a multiple of `other`'s, or None unless both ran successfully."""
    if name not in rows or other not in rows:
        return None
    return rows[name]["lines_per_s"] / rows[other]["lines_per_s"]


def cpu_ratio(rows: dict[str, dict[str, float]], name: str, other: str) -> float | None:
    """`other`'s median CPU time over `name`'s: the throughput ratio if neither waited for a core."""
    if name not in rows or other not in rows:
        return None
    return rows[other]["cpu_s"] / rows[name]["cpu_s"]


def times(value: float | None, digits: int = 3) -> str:
    """A ratio for the tables, or — when there is none."""
    return "—" if value is None else f"{value:.{digits}f}"


def ratios(rows: dict[str, dict[str, float]]) -> list[str]:
    """slotail's throughput against the orjson loop and mtail."""
    notes = []
    for name in (SLOTAIL, SLOTAIL_ONE):
        against = [
            f"{times(ratio(rows, name, other))}× the {other}" for other in (LOOP, MTAIL) if other in rows
        ]
        notes.append(f"{name} throughput: {', '.join(against)}")
    return notes


def warnings(stderr: bytes) -> str:
    """A child's stderr without glog's info lines (`I1201 18:35:51.361002 ...`, mtail's start-up chatter)."""
    lines = stderr.decode(errors="replace").splitlines()
    return "\n".join(line for line in lines if not (line[:1] == "I" and line[1:5].isdigit())).strip()


def observations(runs: list[Run], lines: int) -> list[str]:
    """What the children said: exit codes, stderr, and the line counts they report."""
    notes = []
    for run in runs:
        if run.exit_code != 0:
            notes.append(f"{run.tool} exited {run.exit_code}")
    stderr = {(r.tool, warnings(r.stderr)) for r in runs}
    notes += [f"{tool} stderr: `{text[:500]}`" for tool, text in sorted(stderr) if text]
    for run in runs:
        if run.tool == SLOTAIL and run.exit_code == 0:
            counts = orjson.loads(run.stdout)["lines"]
            notes.append(f"slotail lines: {orjson.dumps(counts).decode()}")
            if counts["read"] != lines:
                notes.append(f"slotail read {counts['read']} lines of {lines}")
            break
    notes += agreement(runs)
    loop = next((r for r in runs if r.tool == LOOP and r.exit_code == 0), None)
    if loop is not None:
        ok, bad = loop.stdout.split()
        notes.append(f"orjson loop: {int(ok):,} lines decoded, {int(bad):,} decode errors")
    return notes


def agreement(runs: list[Run]) -> list[str]:
    """Whether every slotail run printed the same JSON, and whether mtail counted the same SLO events."""
    ok = [r for r in runs if r.tool in (SLOTAIL, SLOTAIL_ONE) and r.exit_code == 0]
    same = len({r.stdout for r in ok}) == 1
    notes = [f"slotail JSON identical across all {len(ok)} runs (workers auto and 1): {same}"]
    mtail = next((r for r in runs if r.tool == MTAIL and r.exit_code == 0), None)
    if ok and mtail is not None:
        mine, theirs = slotail_slo_events(ok[0].stdout), mtail_slo_events(mtail.stdout)
        verdict = "identical" if mine == theirs else f"different: {differences(mine, theirs)}"
        slos, series = len({key[0] for key in mine}), len({key[:2] for key in mine})
        notes.append(
            f"SLO events (good/bad/excluded of {slos} SLOs, {series} series), slotail vs mtail: {verdict}"
        )
    return notes


def differences(mine: dict[SeriesKey, int], theirs: dict[SeriesKey, int], shown: int = 10) -> str:
    """The first counts where slotail and mtail differ, as `key: slotail vs mtail`."""
    keys = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    listed = "; ".join(f"{k}: {mine.get(k, 0)} vs {theirs.get(k, 0)}" for k in keys[:shown])
    return f"{len(keys)} counts, {listed}"


def git(*args: str) -> str:
    """Output of a git command in the repository, or `unknown`."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.rstrip("\n")


def tree_state() -> str:
    """`clean`, or `dirty` with the top-level paths that differ (ignoring this RESULTS.md)."""
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
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"orjson {orjson.__version__}"
    )


@dataclass(frozen=True)
class Prepared:
    """A case ready to run: its corpus, line count, contenders and notes on the inputs."""

    case: Case
    corpus: Path
    lines: int
    tools: list[Tool]
    notes: list[str]


def prepare(case: Case, lines: int, mtail: str | None) -> Prepared:
    """Make (or find) a case's corpus and its mtail twin, and the commands that read them."""
    print(f"{case.name}: making or finding the {case.shape} corpus of {lines:,} lines", file=sys.stderr)
    corpus = ensure_corpus(lines, case.shape)
    twin, notes = corpus, []
    if mtail is not None:
        twin = mtail_safe(corpus)
        notes.append(f"mtail reads `{shown([str(twin)])}`: {mtail_probe(mtail, case.mtail_program, corpus)}")
    return Prepared(case, corpus, count_lines(corpus), tools(case, corpus, twin, mtail), notes)


def loadavg() -> str:
    """The 1-minute load average, from /proc."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "unknown"


def summary(prepared: list[Prepared], rows: dict[str, dict[str, dict[str, float]]]) -> str:
    """One line per case: slotail's throughput against the loop and mtail, memory, issue 15's target.

    `× loop, CPU` is the loop's CPU time over slotail's (workers auto): on a shared, busy machine
    the wall-time ratios swing with the load, CPU time much less (it cannot show what workers gain)."""
    out = [
        "| case | corpus | config | slotail lines/s | × orjson loop | × loop, 1 worker | × loop, CPU "
        "| × mtail | slotail peak RSS MiB | slotail peak tree PSS MiB | issue 15 target | met |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in prepared:
        mine = rows[p.case.name]
        slotail = mine.get(SLOTAIL, {"lines_per_s": 0.0, "rss_mib": 0.0, "tree_mib": 0.0})
        out.append(
            f"| {p.case.name} | {p.corpus.name} | {p.case.config.name} | {slotail['lines_per_s']:,.0f} "
            f"| {times(ratio(mine, SLOTAIL, LOOP))} | {times(ratio(mine, SLOTAIL_ONE, LOOP))} "
            f"| {times(cpu_ratio(mine, SLOTAIL, LOOP))} "
            f"| {times(ratio(mine, SLOTAIL, MTAIL), 1)} | {slotail['rss_mib']:.0f} "
            f"| {slotail['tree_mib']:.0f} | {p.case.target()} | {'yes' if p.case.met(mine) else 'no'} |"
        )
    return "\n".join(out)


def case_section(p: Prepared, rows: dict[str, dict[str, float]], runs: list[Run]) -> str:
    """A case's subsection: its inputs and commands, the medians table, ratios and observations."""
    body = [
        f"### {p.case.name}: `{shown([str(p.corpus)])}` + `{shown([str(p.case.config)])}`",
        "",
        f"- Corpus: `{shown([str(p.corpus)])}`, {p.lines:,} lines, {p.corpus.stat().st_size:,} bytes",
        *[f"- {tool.name}: `{shown(tool.argv)}`" for tool in p.tools],
        *[f"- {note}" for note in p.notes],
        "",
        table(rows, runs),
        "",
        *[f"- {note}" for note in [*ratios(rows), *observations(runs, p.lines)]],
    ]
    return "\n".join(body)


def section(header: list[str], prepared: list[Prepared], runs: list[Run]) -> str:
    """The dated Markdown section appended to RESULTS.md: run facts, a summary, then each case."""
    now = datetime.now(UTC)
    commit = git("rev-parse", "--short", "HEAD")
    mine = {p.case.name: [r for r in runs if r.case == p.case.name] for p in prepared}
    rows = {
        p.case.name: {
            tool.name: median_row(tool.name, mine[p.case.name], p.lines)
            for tool in p.tools
            if any(r.tool == tool.name and r.exit_code == 0 for r in mine[p.case.name])
        }
        for p in prepared
    }
    body = [
        f"## {now:%Y-%m-%d %H:%M} UTC — {commit}",
        "",
        f"- Command: `{shown([sys.executable, *sys.argv])}` (in {ROOT})",
        f"- Date: {now:%Y-%m-%dT%H:%M:%SZ}",
        f"- Machine: {machine()}",
        f"- slotail: commit {commit}, tree {tree_state()}",
        *header,
        "",
        summary(prepared, rows),
    ]
    for p in prepared:
        body += ["", case_section(p, rows[p.case.name], mine[p.case.name])]
    return "\n".join([*body, ""])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="corpus size (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool (default 5)")
    parser.add_argument(
        "--case",
        action="append",
        choices=list(CASES),
        help="run this case only (repeatable; default: all of them)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.lines < 1 or args.repeat < 1:
        parser.error("--lines and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure, print, record; exit 1 if any child failed."""
    args = parse_args(argv)
    mtail, skipped = find_mtail()
    prepared = [prepare(CASES[name], args.lines, mtail) for name in args.case or CASES]
    gnu_time = find_gnu_time()
    load_before = loadavg()
    runs = measure([p.tools for p in prepared], args.repeat, gnu_time)
    header = [
        f"- Cases: {', '.join(p.case.name for p in prepared)}",
        f"- Repetitions: {args.repeat} per tool, interleaved across cases; peak RSS: {rss_method(gnu_time)}",
        *([f"- mtail: skipped, {skipped}"] if skipped else []),
        f"- Load average (1 min) at start / end: {load_before} / {loadavg()} on {os.cpu_count()} cores "
        "(the machine is shared: other work shows here)",
    ]
    text = section(header, prepared, runs)
    print(text)
    if not args.no_record:
        with RESULTS.open("a") as out:
            out.write("\n" + text)
    return 1 if any(run.exit_code != 0 for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
