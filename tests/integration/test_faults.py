"""Faults around a real `slotail run` (issue 6): missing log directory, permission denied, disk full,
corrupt checkpoints. A bad config on SIGHUP is test_sidecar.py's
test_sighup_adds_an_slo_keeping_counts_and_survives_an_invalid_config.

Each one: the daemon keeps running (or starts), says what happened in its log
and metrics, and ends with exactly the lines written counted.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sidecar import LogWriter, Sidecar, Truth, config_text, observed, unprivileged_dir, wait_until

pytestmark = pytest.mark.integration


def records(sidecar: Sidecar) -> list[dict]:
    """Every JSON log record of every start."""
    found = []
    for i in range(1, sidecar.starts + 1):
        text = (sidecar.tmp / f"daemon-{i}.stderr").read_text(errors="replace")
        found += [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return found


def logged(sidecar: Sidecar, level: str, words: str) -> bool:
    return any(r["level"] == level and words in r["msg"] for r in records(sidecar))


def counter(sidecar: Sidecar, name: str, **labels: str) -> float:
    return sidecar.metrics().get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., Sidecar]]:
    """Makes the Sidecar of a test (one), closed at teardown."""
    made: list[Sidecar] = []

    def make(config: Path, **options: tuple[str, ...]) -> Sidecar:
        made.append(Sidecar(config.parent, config, **options))
        return made[-1]

    yield make
    for sidecar in made:
        sidecar.close()


def write_config(tmp: Path, logs: Path) -> Path:
    config = tmp / "slotail.yaml"
    config.write_text(config_text(logs))
    return config


@pytest.fixture
def running(tmp_path, daemon) -> Iterator[tuple[Sidecar, Truth, LogWriter]]:
    """A daemon that has counted the 30 requests (and noise) of logs/api.log, whose writer stays open."""
    logs = tmp_path / "logs"
    logs.mkdir()
    truth = Truth()
    writer = LogWriter(logs / "api.log")
    writer.write(truth.batch(30))
    sidecar = daemon(write_config(tmp_path, logs)).start()
    sidecar.wait_counted(truth)
    yield sidecar, truth, writer
    writer.close()


# ---- the log directory missing at start ---------------------------------------------------------


def test_a_missing_log_directory_keeps_readyz_false_until_it_appears_then_every_line_counts(tmp_path, daemon):
    """No log directory at start: the daemon runs, /readyz is 503 and a warning says why; once it appears,
    /readyz turns 200 and every line written there counts."""
    logs = tmp_path / "not-yet" / "logs"
    sidecar = daemon(write_config(tmp_path, logs)).start(ready=False)
    truth = Truth()

    time.sleep(1.5)  # more than a rescan
    assert sidecar.get("/readyz")[0] == 503, sidecar.diagnostics()
    assert sidecar.get("/healthz")[0] == 200
    assert logged(sidecar, "warning", "log directory missing"), sidecar.diagnostics()

    logs.mkdir(parents=True)
    writer = LogWriter(logs / "api.log")
    try:
        writer.write(truth.batch(20))
        wait_until(lambda: sidecar.get("/readyz")[0] == 200, describe=sidecar.diagnostics)
        sidecar.converge(truth, hold=0)
    finally:
        writer.close()


# ---- permission denied --------------------------------------------------------------------------


@pytest.fixture
def unprivileged() -> Iterator[tuple[Path, tuple[str, ...]]]:
    with unprivileged_dir() as found:
        yield found


def test_a_log_file_without_read_permission_is_counted_retried_and_read_once_allowed(unprivileged, daemon):
    """A mode-000 log file: slotail_source_errors_total{reason="permission_denied"} counts each retry, the
    other files count on; once readable, its lines count exactly once."""
    tmp, prefix = unprivileged
    logs = tmp / "logs"
    logs.mkdir(mode=0o755)
    truth = Truth()
    denied, other = LogWriter(logs / "api.log"), LogWriter(logs / "other.log")
    try:
        denied.write(truth.batch(12))
        os.chmod(logs / "api.log", 0)
        other.write(truth.batch(7))
        sidecar = daemon(write_config(tmp, logs), prefix=prefix).start()

        def retried() -> bool:
            return counter(sidecar, "slotail_source_errors_total", reason="permission_denied") >= 2

        wait_until(retried, describe=sidecar.diagnostics)
        seen = observed(sidecar.metrics(), truth)
        assert 0 < seen["lines", "parsed"] < truth.expected()["lines", "parsed"], sidecar.diagnostics()
        assert logged(sidecar, "warning", "cannot read a log file"), sidecar.diagnostics()

        os.chmod(logs / "api.log", 0o644)
        denied.write(truth.batch(3))
        sidecar.converge(truth)
    finally:
        denied.close()
        other.close()


# ---- disk full while checkpointing --------------------------------------------------------------


def test_disk_full_while_checkpointing_keeps_running_counts_errors_and_retries_until_it_commits(running):
    """The state files may not grow (RLIMIT_FSIZE on the running daemon, so writes fail as on a full disk):
    the daemon keeps serving, slotail_checkpoint_errors_total counts each failed commit, counters stay at
    the last commit; once there is room, the next commit has everything, and a restart resumes from it."""
    sidecar, truth, writer = running
    assert sidecar.proc is not None
    pid, committed = sidecar.proc.pid, observed(sidecar.metrics(), truth)
    # The WAL grows with every commit; the daemon's stderr (a file too) stays far below it.
    room = (sidecar.state_dir / "slotail.db-wal").stat().st_size
    assert os.path.getsize(sidecar.stderr_path) < room // 4
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (room, resource.RLIM_INFINITY))

    writer.write(truth.batch(10))
    errors = "slotail_checkpoint_errors_total"
    wait_until(lambda: counter(sidecar, errors) >= 3, describe=sidecar.diagnostics)
    assert sidecar.alive() and sidecar.get("/readyz")[0] == 200, sidecar.diagnostics()
    assert observed(sidecar.metrics(), truth) == committed, "counters moved without a commit"
    assert logged(sidecar, "error", "checkpoint failed"), sidecar.diagnostics()

    resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    sidecar.converge(truth, hold=0)
    assert logged(sidecar, "info", "checkpoint committed again"), sidecar.diagnostics()
    assert sum(r["msg"].startswith("checkpoint failed") for r in records(sidecar)) == 1  # not one a second
    writer.write(truth.batch(5))
    assert sidecar.stop(signal.SIGTERM) == 0, sidecar.diagnostics()
    sidecar.start().converge(truth)
    assert counter(sidecar, errors) >= 3  # the failures are part of the checkpointed counters


# ---- a corrupt or truncated checkpoint ----------------------------------------------------------


def _truncate(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _overwrite(db: Path) -> None:
    db.write_bytes(b"\x00garbage" * (db.stat().st_size // 8))


def _flip_a_bucket(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE slots SET counts = zeroblob(length(counts)) WHERE rowid = (SELECT min(rowid) FROM slots)"
        )


@pytest.mark.parametrize(
    "damage", [_truncate, _overwrite, _flip_a_bucket], ids=["truncated", "overwritten", "bad-checksum"]
)
def test_a_corrupt_checkpoint_is_detected_set_aside_and_the_daemon_starts_clean(running, damage):
    """A damaged state DB (cut short, overwritten, or a bucket failing its checksum): the daemon starts, logs
    an error, keeps the bad file aside, and counts from a clean state: every line from the start, once."""
    sidecar, truth, writer = running
    assert sidecar.stop(signal.SIGTERM) == 0, sidecar.diagnostics()
    damage(sidecar.state_dir / "slotail.db")
    writer.write(truth.batch(4))

    sidecar.start().converge(truth)  # start_at: beginning, and no checkpoint: all of it, once
    assert logged(sidecar, "error", "checkpoint is corrupt"), sidecar.diagnostics()
    assert list(sidecar.state_dir.glob("slotail.db.corrupt-*")), sorted(os.listdir(sidecar.state_dir))
