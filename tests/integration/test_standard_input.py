"""Standard input: `cat a.log | slotail backfill --config C -` prints what `slotail backfill --config C
a.log` does (through real shell pipes, plain, gzip and zstd), and `slotail run --stdin` counts the
lines piped to it under `source="stdin"`, serving on after the end of its input."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.scenarios import CONFIG, generate, lines, write
from tests.sidecar import AVAILABILITY, LATENCY, MAX_LINE, Sidecar, Truth, observed, wait_until

pytestmark = pytest.mark.integration
HOUR = 3600
SLOTAIL = f"{shlex.quote(sys.executable)} -m slotail"


def sh(command: str) -> subprocess.CompletedProcess[bytes]:
    """`command` run by bash, with pipefail: a failing stage fails the pipe."""
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, timeout=300)


@pytest.fixture
def scenario_files(tmp_path: Path) -> dict[str, Path]:
    """Six hours with an incident, as one plain file, its gzip and zstd twins, and three parts."""
    scenario = generate(
        6 * HOUR, rate=2.0, seed=9, error=lambda t: 0.3 if 2 * HOUR <= t < 2.5 * HOUR else 0.002
    )
    body = lines(scenario)
    third = len(body) // 3
    return {
        "plain": write(tmp_path / "api.log", body, "plain"),
        "gzip": write(tmp_path / "api.log.gz", body, "gzip"),
        "zstd": write(tmp_path / "api.log.zst", body, "zstd"),
        **{
            f"part{i}": write(
                tmp_path / f"part{i}.log", body[i * third : (i + 1) * third if i < 2 else None], "plain"
            )
            for i in range(3)
        },
    }


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "slotail.yaml"
    path.write_text(CONFIG)
    return path


def backfill(config: Path, args: str, stdin: str = "") -> bytes:
    """The JSON report of `[stdin |] slotail backfill --config C ARGS` (which must exit 0)."""
    command = f"{SLOTAIL} backfill --config {config} --format json --no-progress {args}"
    result = sh(f"{stdin} | {command}" if stdin else command)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("pipe", "stored"),
    [
        ("cat {plain}", "plain"),  # the acceptance
        ("zcat {gzip}", "plain"),  # decompressed before the pipe
        ("cat {gzip}", "gzip"),  # a compressed stream, told by its first bytes as a file is
        ("cat {zstd}", "zstd"),
    ],
)
def test_piped_to_standard_input_the_report_is_that_of_the_file(
    config: Path, scenario_files: dict[str, Path], pipe: str, stored: str
) -> None:
    expected = backfill(config, str(scenario_files["plain"]))
    assert b'"bad": 0,' not in expected  # the incident is in it
    piped = backfill(config, "-", pipe.format(**scenario_files))
    assert piped == expected
    assert backfill(config, str(scenario_files[stored])) == expected


def test_standard_input_reads_in_event_time_among_files(
    config: Path, scenario_files: dict[str, Path]
) -> None:
    """`cat part1 | slotail backfill part2 - part0`: the middle third from a pipe, read together with
    the files on either side of it in event time, as the whole file is."""
    files = scenario_files
    expected = backfill(config, str(files["plain"]))
    mixed = backfill(config, f"{files['part2']} - {files['part0']}", f"cat {files['part1']}")
    assert mixed == expected


def test_standard_input_given_twice_is_a_usage_error(config: Path, scenario_files: dict[str, Path]) -> None:
    result = sh(f"cat {scenario_files['plain']} | {SLOTAIL} backfill --config {config} - -")
    assert result.returncode == 2
    assert b"standard input" in result.stderr


def test_a_truncated_gzip_on_standard_input_is_a_source_error(
    tmp_path: Path, config: Path, scenario_files: dict[str, Path]
) -> None:
    """Cut short, a pipe is reported as a file is: the lines before the cut are counted, and exit 1."""
    packed = scenario_files["gzip"].read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    result = sh(f"cat {cut} | {SLOTAIL} backfill --config {config} --format json --no-progress -")
    assert result.returncode == 1, result.stderr.decode()
    report = json.loads(result.stdout)
    [error] = report["diagnostics"]["source_errors"]
    assert error.startswith("cannot read standard input past byte")
    assert 0 < report["lines"]["read"] < gzip.decompress(packed).count(b"\n")


# ---- the sidecar -------------------------------------------------------------------------------


def stdin_config(tmp_path: Path) -> Path:
    """The sidecar's SLOs with no file source at all: standard input is the only one."""
    path = tmp_path / "slotail.yaml"
    path.write_text(
        f"timestamp: {{field: ts}}\nstore: {{max_line_bytes: {MAX_LINE}}}\nslos:{AVAILABILITY}{LATENCY}"
    )
    return path


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_run_stdin_counts_piped_lines_and_serves_on_after_the_end_of_input(tmp_path: Path) -> None:
    """Lines written to the daemon's standard input, in pieces with a partial line held across writes,
    are counted exactly under source="stdin", and so is a last line without its newline at the end of
    input; the daemon logs the end, keeps serving what it counted without spinning on the closed pipe,
    and a SIGTERM then stops it cleanly."""
    sidecar = Sidecar(tmp_path, stdin_config(tmp_path), args=("--stdin",))
    sidecar.start(stdin=subprocess.PIPE)
    try:
        assert sidecar.proc is not None and sidecar.proc.stdin is not None
        pipe, truth = sidecar.proc.stdin, Truth()
        for _ in range(5):
            data = truth.batch(200)
            pipe.write(data[:-30])
            pipe.flush()
            time.sleep(0.2)  # the daemon sees a line cut in two
            pipe.write(data[-30:])
            pipe.flush()

        def counted() -> bool:
            return observed(sidecar.metrics(), truth, "stdin") == truth.expected()

        wait_until(
            counted,
            describe=lambda: f"{observed(sidecar.metrics(), truth, 'stdin')}\n{sidecar.diagnostics()}",
        )
        pipe.write(truth.request()[:-1])  # a last line without its newline: the end of input ends it
        pipe.close()
        wait_until(counted, describe=sidecar.diagnostics)
        wait_until(lambda: "standard input ended" in sidecar.stderr(), describe=sidecar.diagnostics)
        before = cpu_seconds(sidecar.proc.pid)
        time.sleep(2.0)
        assert cpu_seconds(sidecar.proc.pid) - before < 0.5  # an ended pipe is not waited on: no busy loop
        assert sidecar.alive() and sidecar.get("/healthz")[0] == 200
        assert observed(sidecar.metrics(), truth, "stdin") == truth.expected()
        assert sidecar.stop() == 0
        assert "Traceback" not in sidecar.stderr()
    finally:
        sidecar.close()
