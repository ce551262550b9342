"""`slotail run` as a real process over real files: rotations, partial lines, restarts, crashes, reloads.

Every scenario counts what it writes per outcome (tests.sidecar.Truth) and ends
when /metrics shows exactly that, keeps showing it, and /api/v1/slos agrees.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.sidecar import (
    AVAILABILITY,
    LATENCY,
    LogWriter,
    Sidecar,
    Truth,
    config_text,
    free_port,
    observed,
    wait_until,
)

pytestmark = pytest.mark.integration
MINUTE_MS = 60_000
WINDOWS = ("5m", "30m", "1h", "6h")  # the alert windows of tests.sidecar.ALERTS


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def config(tmp_path: Path, logs: Path) -> Path:
    path = tmp_path / "slotail.yaml"
    path.write_text(config_text(logs))
    return path


@pytest.fixture
def sidecar(tmp_path: Path, config: Path) -> Iterator[Sidecar]:
    daemon = Sidecar(tmp_path, config)
    yield daemon
    daemon.close()


@pytest.fixture
def truth() -> Truth:
    return Truth()


@pytest.fixture
def open_log() -> Iterator[Callable[[Path], LogWriter]]:
    """Open log files the way a logger does; all closed at teardown."""
    writers: list[LogWriter] = []

    def opener(path: Path) -> LogWriter:
        writers.append(LogWriter(path))
        return writers[-1]

    yield opener
    for writer in writers:
        writer.close()


def log_records(sidecar: Sidecar) -> list[dict]:
    """The daemon's stderr, which `--log-format json` makes one JSON object per line."""
    records = []
    for line in sidecar.stderr_path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line!r}\n{sidecar.diagnostics()}") from None
    return records


def files_open(sidecar: Sidecar) -> int:
    return int(sidecar.metrics().get(("slotail_files_open", frozenset()), -1))


def events(document: dict) -> dict[str, dict[str, int]]:
    return {slo["name"]: slo["events"] for slo in document["slos"]}


def read_bytes(sidecar: Sidecar) -> int:
    return int(sidecar.metrics().get(("slotail_read_bytes_total", frozenset()), 0))


# ---- rotation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rotated", ["api.log.1", "api-1.log"], ids=["out-of-glob", "still-in-glob"])
def test_rename_and_create_with_late_writes_to_the_old_file_counts_every_line_once(
    sidecar, truth, logs, open_log, rotated
):
    """rename + create: lines the logger still writes to the renamed file, and the new file's, count once."""
    old = open_log(logs / "api.log")
    old.write(truth.batch(10))
    sidecar.start().wait_counted(truth)

    os.rename(logs / "api.log", logs / rotated)
    old.write(truth.batch(5))  # the logger has not reopened yet
    new = open_log(logs / "api.log")
    new.write(truth.batch(7))
    sidecar.wait_counted(truth)  # the daemon has found the new file, so it knows of the rename
    old.write(truth.batch(3))  # a late write through the old descriptor
    new.write(truth.batch(4))

    sidecar.converge(truth)


def test_copytruncate_with_a_refill_past_the_old_size_counts_every_line_once(sidecar, truth, logs, open_log):
    """copytruncate: lines only the copy holds are read from it, the refilled file from its start."""
    log = open_log(logs / "api.log")
    log.write(truth.batch(20))
    sidecar.start().wait_counted(truth)
    unread, refill = truth.batch(6), truth.batch(150)  # built first, so the rotation below is quick

    log.write(unread)  # not yet read when the copy is taken: only the copy will hold these
    shutil.copyfile(logs / "api.log", logs / "api.log.1")
    old_size = os.path.getsize(logs / "api.log")
    os.truncate(logs / "api.log", 0)
    log.write(refill)  # O_APPEND: from offset 0, past the old size, before the next poll
    assert len(refill) > old_size

    sidecar.converge(truth)
    assert sidecar.metrics()[("slotail_truncations_total", frozenset())] >= 1


def test_copytruncate_to_a_name_the_glob_matches_counts_every_line_once(sidecar, truth, logs, open_log):
    """copytruncate to a name the glob matches (api-1.log for *.log): the copy's old lines count once."""
    log = open_log(logs / "api.log")
    log.write(truth.batch(20))
    sidecar.start().wait_counted(truth)

    shutil.copyfile(logs / "api.log", logs / "api-1.log")
    # A big file takes a while to copy: a rescan sees the copy before the truncate comes.
    wait_until(lambda: files_open(sidecar) == 2, describe=sidecar.diagnostics)
    os.truncate(logs / "api.log", 0)
    log.write(truth.batch(150))

    sidecar.converge(truth)


def test_an_unterminated_last_line_of_a_rotated_file_counts_as_in_backfill(
    sidecar, truth, config, logs, open_log
):
    """A rotated file ending without a newline (its logger died mid-line): sidecar and backfill agree."""
    old = open_log(logs / "api.log")
    old.write(truth.batch(5))
    sidecar.start().wait_counted(truth)
    line = truth.request()
    old.write(line[:-1])  # no newline will ever come
    os.rename(logs / "api.log", logs / "api.log.1")
    open_log(logs / "api.log").write(truth.batch(3))

    def finished() -> bool:  # the rotation was seen and the old file closed after its grace period
        rotations = sidecar.metrics().get(("slotail_rotations_total", frozenset()), 0)
        return rotations >= 1 and files_open(sidecar) == 1

    wait_until(finished, describe=sidecar.diagnostics)
    after = time.time() + 1.5  # a checkpoint and a tick later

    def document() -> dict | None:
        doc = sidecar.document()
        return doc if datetime.fromisoformat(doc["evaluated_at"]).timestamp() > after else None

    live = wait_until(document, describe=sidecar.diagnostics)
    replay = backfill(config, live["evaluated_at"], [logs / "api.log.1", logs / "api.log"])
    assert events(live) == events(replay), sidecar.diagnostics()


def test_a_file_deleted_while_its_writer_appends_loses_no_line(sidecar, truth, logs, open_log):
    """delete while open: lines appended through the open descriptor after the unlink still count."""
    old = open_log(logs / "api.log")
    old.write(truth.batch(10))
    sidecar.start().wait_counted(truth)

    os.unlink(logs / "api.log")
    old.write(truth.batch(5))
    new = open_log(logs / "api.log")
    new.write(truth.batch(7))
    sidecar.wait_counted(truth)  # the daemon has found the new file, so it knows of the delete
    old.write(truth.batch(2))  # a late write through the open descriptor of the deleted file
    new.write(truth.batch(3))

    sidecar.converge(truth)


# ---- partial lines -------------------------------------------------------------------------------


def write_half_a_line(sidecar: Sidecar, truth: Truth, log: LogWriter) -> bytes:
    """Write the first half of a request line; returns the rest once the daemon has read the half."""
    line = truth.request()
    log.write(line[: len(line) // 2])
    size = os.path.getsize(log.path)
    wait_until(lambda: read_bytes(sidecar) == size, describe=sidecar.diagnostics)
    return line[len(line) // 2 :]


def test_a_partial_line_is_counted_once_and_only_after_its_newline(sidecar, truth, logs, open_log):
    """A line without its newline is not counted, even once read and committed; completed, it counts once."""
    log = open_log(logs / "api.log")
    log.write(truth.batch(5))
    counted = sidecar.start().wait_counted(truth)

    rest = write_half_a_line(sidecar, truth, log)
    deadline = time.monotonic() + 1.0  # the writer finishes the line ~1 s later
    while time.monotonic() < deadline:
        assert observed(sidecar.metrics(), truth) == counted, sidecar.diagnostics()
        time.sleep(0.1)
    log.write(rest)

    sidecar.converge(truth)


def test_a_partial_line_completed_while_the_daemon_is_down_is_counted_once(sidecar, truth, logs, open_log):
    """A checkpoint taken mid-line resumes at the line's start: completed during a restart, it counts once."""
    log = open_log(logs / "api.log")
    log.write(truth.batch(5))
    sidecar.start().wait_counted(truth)
    rest = write_half_a_line(sidecar, truth, log)

    assert sidecar.stop(signal.SIGTERM) == 0, sidecar.diagnostics()
    log.write(rest + truth.batch(4))
    sidecar.start()

    sidecar.converge(truth)


# ---- restarts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_then_a_rotation_while_down_then_a_restart_counts_every_line_once(
    sidecar, truth, logs, open_log, stop
):
    """SIGTERM (or SIGINT) exits 0; lines written to both files of a rotation while down count once after."""
    old = open_log(logs / "api.log")
    old.write(truth.batch(10))
    sidecar.start().wait_counted(truth)
    old.write(truth.batch(4))  # possibly unread when the signal lands: the drain or the resume has them

    assert sidecar.stop(stop) == 0, sidecar.diagnostics()
    assert "Traceback" not in sidecar.stderr()
    old.write(truth.batch(5))
    os.rename(logs / "api.log", logs / "api.log.1")
    old.write(truth.batch(3))
    new = open_log(logs / "api.log")
    new.write(truth.batch(8))
    sidecar.start()

    sidecar.converge(truth)


def test_kill_9_while_writing_never_overcounts_never_goes_back_and_converges(sidecar, truth, logs, open_log):
    """kill -9 mid-stream: counters stay <= what was written, never decrease across the restart, end exact."""
    seed = random.randrange(1 << 30)
    kill_after = random.Random(seed).uniform(1.0, 3.0)
    log = open_log(logs / "api.log")
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            log.write(truth.batch(3))  # Truth counts before the bytes land: an upper bound at any time
            time.sleep(0.01)

    last = {key: 0 for key in truth.expected()}

    def check() -> None:
        seen = observed(sidecar.metrics(), truth)
        written = truth.expected()
        context = f"seed {seed}, kill after {kill_after:.2f}s\n{sidecar.diagnostics()}"
        assert all(seen[k] <= written[k] for k in seen), f"{seen} > written {written}\n{context}"
        assert all(seen[k] >= last[k] for k in seen), f"{seen} went below {last}\n{context}"
        last.update(seen)

    writer = threading.Thread(target=write, daemon=True)
    try:
        sidecar.start()
        writer.start()
        deadline = time.monotonic() + kill_after
        while time.monotonic() < deadline:
            check()
            time.sleep(0.05)
        assert sidecar.stop(signal.SIGKILL) == -signal.SIGKILL

        sidecar.start()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            check()
            time.sleep(0.05)
    finally:
        stop.set()
        writer.join()

    sidecar.converge(truth)


# ---- the process ---------------------------------------------------------------------------------


def test_a_second_daemon_on_the_same_state_dir_is_refused_with_a_message(sidecar):
    """A second `slotail run` on a state dir in use exits non-zero, says why, and shows no traceback."""
    sidecar.start()

    second = subprocess.run(sidecar.command(free_port()), capture_output=True, timeout=20)

    stderr = second.stderr.decode()
    assert second.returncode != 0, stderr
    assert str(sidecar.state_dir) in stderr
    assert "Traceback" not in stderr
    assert sidecar.alive() and sidecar.get("/healthz")[0] == 200, sidecar.diagnostics()


def test_a_listen_address_in_use_is_refused_with_a_message(sidecar):
    """`--listen` on a port already taken exits non-zero with a message naming it, not a traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(sidecar.command(port), capture_output=True, timeout=20)

    stderr = proc.stderr.decode()
    assert proc.returncode != 0, stderr
    assert str(port) in stderr
    assert "Traceback" not in stderr, stderr


DESIGN_METRICS = {
    "slotail_sli_events_total",
    "slotail_objective_ratio",
    "slotail_error_ratio",
    "slotail_burn_rate",
    "slotail_error_budget_remaining_ratio",
    "slotail_alert_active",
    "slotail_latency_quantile_seconds",
    "slotail_lines_total",
}


def test_endpoints_answer_and_metrics_carry_every_name_of_the_design_table(sidecar, truth, logs, open_log):
    """/healthz, /readyz, / and /api/v1/slos answer; /metrics has DESIGN.md's metrics with their labels."""
    open_log(logs / "api.log").write(truth.batch(16))
    sidecar.start()

    assert sidecar.get("/healthz")[0] == 200, sidecar.diagnostics()
    assert sidecar.get("/readyz")[0] == 200, sidecar.diagnostics()
    sidecar.wait_counted(truth)
    samples = wait_until(
        lambda: (m := sidecar.metrics()) and {name for name, _ in m} >= DESIGN_METRICS and m,
        describe=lambda: f"{sorted({name for name, _ in sidecar.metrics()})}\n{sidecar.diagnostics()}",
    )

    def labels(name: str, label: str) -> set[str]:
        return {dict(ls)[label] for n, ls in samples if n == name}

    assert labels("slotail_burn_rate", "window") == {"5m", "30m", "1h", "6h", "30d"}
    assert labels("slotail_alert_active", "alert") == {"page-fast", "page-slow"}
    assert labels("slotail_latency_quantile_seconds", "percentile") == {"50", "95", "99"}
    assert labels("slotail_objective_ratio", "slo") == {"availability", "latency"}
    status, page = sidecar.get("/")
    assert status == 200 and b"availability" in page
    assert [s["name"] for s in sidecar.document()["slos"]] == ["availability", "latency"]


def test_sighup_adds_an_slo_keeping_counts_and_survives_an_invalid_config(sidecar, config, logs, open_log):
    """SIGHUP: a new SLO appears, the kept SLO keeps its counts; an invalid config is logged and ignored."""
    truth = Truth(slos=("availability",))
    config.write_text(config_text(logs, AVAILABILITY))
    log = open_log(logs / "api.log")
    log.write(truth.batch(10))
    sidecar.start().wait_counted(truth)

    config.write_text(config_text(logs, AVAILABILITY + LATENCY))
    sidecar.send(signal.SIGHUP)
    latency = ("slotail_objective_ratio", frozenset({("slo", "latency")}))
    samples = wait_until(
        lambda: (m := sidecar.metrics()) and latency in m and m, describe=sidecar.diagnostics
    )
    assert observed(samples, truth) == truth.expected(), sidecar.diagnostics()
    kept = sidecar.period_events()["availability"]
    assert kept == truth.period_events()["availability"], sidecar.diagnostics()
    truth.slos = ("availability", "latency")  # the new SLO counts the lines read after the reload
    log.write(truth.batch(8))
    sidecar.converge(truth, hold=0)

    config.write_text("slos:\n  - name: Not A Valid Name\n    objective: 250\n")
    sidecar.send(signal.SIGHUP)

    wait_until(lambda: any(r["level"] == "error" for r in log_records(sidecar)), describe=sidecar.diagnostics)
    assert sidecar.alive(), sidecar.diagnostics()
    log.write(truth.batch(6))  # still counted by both SLOs of the running config
    sidecar.converge(truth)


# ---- one engine, two clocks ----------------------------------------------------------------------


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-12)


def backfill(config: Path, at: str, files: list[Path]) -> dict:
    cmd = [sys.executable, "-m", "slotail", "backfill", "--config", str(config), "--format", "json"]
    proc = subprocess.run(
        [*cmd, "--no-progress", "--at", at, *map(str, files)], capture_output=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return dict(json.loads(proc.stdout))


def test_backfill_at_the_sidecars_evaluation_time_gives_the_same_counts_and_burn_rates(
    sidecar, truth, tmp_path, config, logs, open_log
):
    """Acceptance 2: the same lines through the sidecar and `backfill --at T` give the same document."""
    written_ms = time.time_ns() // 1_000_000
    # Some events in each window (5m 30m 1h 6h 30d) and none of them within a minute of its edges;
    # they stay that way for the next minute of wall-clock time.
    clusters = [(180, 120, 300), (50, 35, 30), (25, 7, 9), (4, 1, 3)]  # (from, to) minutes ago; step s
    stamps = [
        ts
        for start, end, step in clusters
        for ts in range(written_ms - start * MINUTE_MS, written_ms - end * MINUTE_MS, step * 1000)
    ]
    open_log(logs / "api.log").write(b"".join(truth.request(ts) for ts in stamps))
    copy = tmp_path / "archive" / "api.log"
    copy.parent.mkdir()
    shutil.copyfile(logs / "api.log", copy)
    sidecar.start().converge(truth, hold=0)

    live = sidecar.document()
    assert time.time_ns() // 1_000_000 - written_ms < 45_000, "too slow: events may have crossed an edge"
    replay = backfill(config, live["evaluated_at"], [copy])

    assert replay["evaluated_at"] == live["evaluated_at"]
    assert replay["lines"] == live["lines"]
    for mine, theirs in zip(live["slos"], replay["slos"], strict=True):
        assert mine["name"] == theirs["name"]
        assert mine["events"] == theirs["events"]
        assert mine["windows"].keys() == theirs["windows"].keys()
        for label, window in mine["windows"].items():
            other = theirs["windows"][label]
            assert (window["good"], window["bad"]) == (other["good"], other["bad"]), (mine["name"], label)
            for key in ("error_ratio", "burn_rate"):
                assert window[key] == approx(other[key]), (mine["name"], label, key)
        assert mine.get("latency") == theirs.get("latency")
        assert mine["error_budget"]["remaining_ratio"] == approx(theirs["error_budget"]["remaining_ratio"])
        assert mine["status"] == theirs["status"]
    sizes = [live["slos"][0]["windows"][w]["good"] + live["slos"][0]["windows"][w]["bad"] for w in WINDOWS]
    assert 0 < sizes[0] < sizes[1] < sizes[2] < sizes[3], sizes  # each window adds events: edges matter
