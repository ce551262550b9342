"""Finding log files: `slotail run` started before its logs exist counts every line of files that
are created and rotated away at once (inotify), and with `--discovery poll` the README's limit holds:
a file renamed out of the globs before a rescan saw it is never read, one that stayed is read whole.

Two sources in one daemon: `exact` names the file (`exact/api.log`), `glob` a pattern
(`glob/*.log`); the files rotate to `api.log.N`, which neither matches. Each source's lines are
events of an SLO of its own, so /metrics tells the two apart.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest

from tests.sidecar import Sidecar, wait_until

pytestmark = pytest.mark.integration
SOURCES = ("exact", "glob")


def config_text(logs: Path) -> str:
    exact, pattern = json.dumps(str(logs / "exact" / "api.log")), json.dumps(str(logs / "glob" / "*.log"))
    slos = "".join(
        f"  - {{name: {s}, objective: 99, sli: {{events: {{event: {s}}}, bad: {{status: {{gte: 500}}}}}}}}\n"
        for s in SOURCES
    )
    return (
        "sources:\n"
        f"  - {{name: exact, paths: [{exact}], start_at: beginning}}\n"
        f"  - {{name: glob, paths: [{pattern}], start_at: beginning}}\n"
        f"timestamp: {{field: ts}}\nslos:\n{slos}"
    )


class Api:
    """An API logging to `api.log` through one O_APPEND descriptor, rotated by rename then create
    (a few lines still go to the old file after the rename, as they do before a logger reopens)."""

    def __init__(self, directory: Path, event: str) -> None:
        self.directory, self.event = directory, event
        self.log = directory / "api.log"
        self.fd: int | None = None
        self.counts: Counter[str] = Counter()  # outcome -> lines written
        self.rotations = 0
        self._seq = 0

    def lines(self, n: int) -> bytes:
        ts = time.time_ns() // 1_000_000
        out = []
        for seq in range(self._seq, self._seq + n):
            status = 503 if seq % 7 == 0 else 200
            out.append(
                b'{"ts":%d,"event":"%s","seq":%d,"status":%d}\n' % (ts, self.event.encode(), seq, status)
            )
        self._seq += n
        bad = sum(1 for seq in range(self._seq - n, self._seq) if seq % 7 == 0)
        self.counts["bad"] += bad
        self.counts["good"] += n - bad
        return b"".join(out)

    def create(self) -> None:
        self.fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, n: int) -> None:
        assert self.fd is not None
        os.write(self.fd, self.lines(n))

    def rotate(self, late: int = 0, reopen: bool = True) -> None:
        """Rename api.log to api.log.N, write `late` more lines to it, then (`reopen`) create a new one."""
        assert self.fd is not None
        self.rotations += 1
        os.rename(self.log, self.directory / f"api.log.{self.rotations}")
        if late:
            self.write(late)
        os.close(self.fd)
        self.fd = None
        if reopen:
            self.create()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    @property
    def total(self) -> int:
        return self.counts["good"] + self.counts["bad"]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    for source in SOURCES:
        (tmp_path / "logs" / source).mkdir(parents=True)
    return tmp_path / "logs"


@pytest.fixture
def apis(logs: Path) -> Iterator[dict[str, Api]]:
    made = {source: Api(logs / source, source) for source in SOURCES}
    yield made
    for api in made.values():
        api.close()


def start(tmp_path: Path, logs: Path, *args: str) -> Sidecar:
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    return Sidecar(tmp_path, config, args=args).start()


def counted(sidecar: Sidecar) -> dict[tuple[str, str], int]:
    """Events by (SLO, outcome), and parsed lines by (source, "lines"), from a real scrape."""
    samples = sidecar.metrics()
    got = {}
    for source in SOURCES:
        for outcome in ("good", "bad"):
            labels = frozenset({("slo", source), ("outcome", outcome)})
            got[source, outcome] = int(samples.get(("slotail_sli_events_total", labels), 0))
        labels = frozenset({("source", source), ("result", "parsed")})
        got[source, "lines"] = int(samples.get(("slotail_lines_total", labels), 0))
    return got


def expected(apis: dict[str, Api]) -> dict[tuple[str, str], int]:
    want = {}
    for source, api in apis.items():
        want[source, "good"], want[source, "bad"] = api.counts["good"], api.counts["bad"]
        want[source, "lines"] = api.total
    return want


def converge(sidecar: Sidecar, apis: dict[str, Api], timeout: float = 30.0) -> None:
    """Every counter reaches what was written, exactly (counters never fall: past it is a line twice)."""
    last: dict[tuple[str, str], int] = {}

    def reached() -> bool:
        last.update(counted(sidecar))
        want = expected(apis)
        return all(last[k] >= want[k] for k in want)

    wait_until(
        reached, timeout, describe=lambda: f"expected {expected(apis)}\nlast {last}\n{sidecar.diagnostics()}"
    )
    assert last == expected(apis), f"counted twice:\n{last}\n{expected(apis)}"
    time.sleep(1.5)  # a checkpoint and a poll later, nothing more is counted
    assert counted(sidecar) == expected(apis)
    assert "Traceback" not in sidecar.stderr()


def discovery_of(sidecar: Sidecar) -> str:
    """The discovery the daemon says it uses (its `sources` log line)."""
    for line in sidecar.stderr().splitlines():
        if '"sources"' in line:
            return str(json.loads(line)["discovery"])
    raise AssertionError(f"no sources line\n{sidecar.diagnostics()}")


def test_files_created_written_and_renamed_away_within_100ms_are_counted(
    tmp_path: Path, logs: Path, apis: dict[str, Api]
) -> None:
    """Started before any log exists; three times, each API creates its log, writes 3,000 lines and
    renames it out of the globs, all within 0.1 s: every line is counted once (inotify)."""
    sidecar = start(tmp_path, logs)
    try:
        assert discovery_of(sidecar) == "inotify"
        for _ in range(3):
            for api in apis.values():
                began = time.monotonic()
                api.create()
                api.write(3000)
                api.rotate(reopen=False)
                assert time.monotonic() - began < 0.1
            time.sleep(0.3)
        converge(sidecar, apis)
    finally:
        sidecar.close()


def test_200_rotations_at_5_a_second_under_10k_lines_a_second_lose_and_repeat_nothing(
    tmp_path: Path, logs: Path, apis: dict[str, Api]
) -> None:
    """Both sources at once, each written at 10,000 lines/s (100 lines every 10 ms) and rotated every
    0.2 s, 200 times, with lines written to the old file after each rename: every line once, and
    every rotation seen (inotify)."""
    sidecar = start(tmp_path, logs)
    try:
        for api in apis.values():
            api.create()
        began = time.monotonic()
        for tick in range(1, 200 * 20 + 1):  # 10 ms ticks, a rotation every 20
            for api in apis.values():
                api.write(100)
                if tick % 20 == 0:
                    api.rotate(late=10)
            time.sleep(max(0.0, began + tick * 0.01 - time.monotonic()))
        assert all(api.rotations == 200 for api in apis.values())
        converge(sidecar, apis, timeout=60.0)
        rotations = sidecar.metrics()[("slotail_rotations_total", frozenset())]
        assert rotations == 400
    finally:
        sidecar.close()


def subset_sums(sizes: list[int]) -> set[int]:
    return {sum(c) for k in range(len(sizes) + 1) for c in combinations(sizes, k)}


def test_with_polling_a_file_renamed_away_before_a_rescan_is_never_read_and_one_that_stayed_is(
    tmp_path: Path, logs: Path, apis: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`SLOTAIL_DISCOVERY=poll`: five files renamed out of the glob at once are each read whole or not
    at all (sizes whose every subset sums differently tell which), and not all are read; a file that
    stayed under the glob past a rescan (1 s) is read to its end, writes after its rename included."""
    monkeypatch.setenv("SLOTAIL_DISCOVERY", "poll")
    sidecar = start(tmp_path, logs)
    try:
        assert discovery_of(sidecar) == "poll"
        quick, slow = apis["exact"], apis["glob"]
        sizes = [100 * 2**i for i in range(5)]
        slow.create()
        slow.write(500)
        for size in sizes:
            quick.create()
            quick.write(size)
            quick.rotate(reopen=False)
            time.sleep(0.33)  # the next one at another point between rescans
        slow.write(500)
        slow.rotate(late=100, reopen=False)

        def slow_read() -> bool:
            got = counted(sidecar)
            return got["glob", "lines"] >= slow.total

        wait_until(slow_read, describe=sidecar.diagnostics)
        time.sleep(2.5)  # past two more rescans: nothing late
        got = counted(sidecar)
        assert got["glob", "lines"] == slow.total == 1100
        assert got["glob", "good"] + got["glob", "bad"] == slow.total
        read = got["exact", "lines"]
        assert read in subset_sums(sizes), f"a file read in part, or twice: {read} lines of {sizes}"
        assert read < sum(sizes), "every file was read: is this polling?"
    finally:
        sidecar.close()


def test_inotify_follows_a_rename_chain_and_ignores_files_only_ever_outside_the_globs(
    tmp_path: Path, logs: Path, apis: dict[str, Api]
) -> None:
    """A file renamed out of the glob and on again (api.log -> api.log.1 -> api.log.1.bak) before the
    daemon looked is still read, once; a file that never matched a glob (written straight to
    api.log.9) is never read."""
    sidecar = start(tmp_path, logs)
    try:
        api = apis["glob"]
        stray = api.directory / "api.log.9"
        stray.write_bytes(Api(api.directory, "glob").lines(50))  # not counted in `api`: never read
        api.create()
        api.write(1000)
        api.rotate(reopen=False)
        os.rename(api.directory / "api.log.1", api.directory / "api.log.1.bak")
        converge(sidecar, apis)
    finally:
        sidecar.close()
