"""The cardinality test: a million distinct `group_by` values keep 1000 series, count the overflow,
and cost no more memory than two hundred thousand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from slotail.workers import BLOCK_BYTES, MIN_BLOCKS
from tests.rss import peak_mib, run_measured

pytestmark = pytest.mark.integration

CONFIG = """
slos:
  - name: per-user
    objective: 99
    group_by: [user]
    max_series: 1000
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
"""
START_MS = 1_764_000_000_000
LINES = 1_000_000
CAP = 1000


def _write(path: Path, n: int) -> None:
    """n lines 3 ms apart, each with a user of its own; one in 50 fails."""
    with path.open("w") as out:
        for i in range(n):
            status = 500 if i % 50 == 0 else 200
            out.write(f'{{"timestamp":{START_MS + 3 * i},"event":"req","user":"u{i}","status":{status}}}\n')


def _backfill(config: Path, log: Path) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "slotail", "backfill", "--config", str(config), "--format", "json"]
    proc = run_measured([*cmd, "--no-progress", str(log)], timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return json.loads(proc.stdout), peak_mib(proc)


def test_a_million_distinct_users_keep_1000_series_count_the_overflow_and_rss_stays_flat(tmp_path):
    """1M lines with distinct `user`: exactly 1000 series plus overflow, the rest counted, RSS as at 200k.

    Both files are large enough for `--workers auto` to read them in parallel, so the two runs differ
    in length and cardinality only (a file read in-process has no blocks in flight, and compared with
    one read by workers, the difference in RSS is that, not growth)."""
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    small, large = tmp_path / "200k.log", tmp_path / "1m.log"
    _write(small, LINES // 5)
    _write(large, LINES)
    assert small.stat().st_size >= MIN_BLOCKS * BLOCK_BYTES
    _, small_mib = _backfill(config, small)
    report, large_mib = _backfill(config, large)

    slos = report["slos"]
    assert len(slos) == CAP + 1
    assert [s["labels"]["user"] for s in slos[:-1]] == sorted(f"u{i}" for i in range(CAP))
    assert slos[-1]["labels"] == {"user": "__overflow__"}
    assert all(s["events"]["good"] + s["events"]["bad"] == 1 for s in slos[:-1])  # one line per user
    overflow = LINES - CAP  # each of the first 1000 users has one line
    assert report["diagnostics"]["series_overflow"] == {"per-user": overflow}
    bad = sum(1 for i in range(CAP, LINES) if i % 50 == 0)
    assert slos[-1]["events"] == {"good": overflow - bad, "bad": bad, "excluded": 0}
    assert large_mib <= small_mib * 1.10 + 20, f"peak RSS {small_mib:.0f} MiB at 200k, {large_mib:.0f} at 1M"
