"""Loud when the config cannot read the logs: field mismatches in backfill, `check --logs` and the sidecar.

Each expectation is counted here, in plain Python, from the raw lines written.
"""

from __future__ import annotations

import gzip
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import slotail.workers
from slotail.cli import cli
from slotail.workers import Workers
from tests.sidecar import Sidecar, wait_until

pytestmark = pytest.mark.integration
T0_MS = 1_771_491_600_000  # 2026-02-19T09:00:00Z

# nginx `log_format ... escape=json` as its docs write it: every variable inside quotes.
NGINX = """\
timestamp: {field: time_iso8601}
slos:
  - name: availability
    objective: 99.5
    sli:
      events: {request_method: {exists: true}}
      bad: {status: {gte: 500}}
  - name: latency
    objective: 95
    sli:
      events: {request_method: GET}
      latency: {field: request_time, unit: s, threshold: 0.3}
"""

# Go slog with OpenTelemetry semantic-convention keys: flat keys that hold dots.
OTEL = """\
timestamp: {field: time}
slos:
  - name: availability
    objective: 99.5
    sli:
      events: {msg: request}
      bad: {http.response.status_code: {gte: 500}}
"""


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}+00:00"


def nginx_lines(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        status = rng.choice([200, 200, 200, 201, 404, 429, 500, 503])
        records.append(
            {
                "time_iso8601": iso(T0_MS + i * 250),
                "remote_addr": "10.0.0.1",
                "request_method": rng.choice(["GET", "GET", "POST"]),
                "request_uri": "/api/x",
                "status": str(status),
                "request_time": f"{rng.random():.3f}",
                "body_bytes_sent": "512",
            }
        )
    return records


def otel_lines(n: int, seed: int = 4) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "time": iso(T0_MS + i * 250),
            "level": "INFO",
            "msg": rng.choice(["request", "request", "cache miss"]),
            "http.request.method": "GET",
            "http.response.status_code": rng.choice([200, 200, 503]),
            "http.server.request.duration": rng.random(),
        }
        for i in range(n)
    ]


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    return path


def is_number(value: Any) -> bool:
    return type(value) in (int, float)


def nginx_truth(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """What the naive nginx config cannot read, counted from the records themselves."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in records:
        if "request_method" in r:  # an availability event: `bad` reads status
            if "status" not in r:
                counts["availability", "status", "missing"] += 1
            elif not is_number(r["status"]):
                counts["availability", "status", "wrong_type"] += 1
        if r.get("request_method") == "GET":  # a latency event (nothing excluded): the latency is read
            if "request_time" not in r:
                counts["latency", "request_time", "missing"] += 1
            elif not is_number(r["request_time"]):
                counts["latency", "request_time", "wrong_type"] += 1
    return nest(counts)


def nest(counts: Counter[tuple[str, str, str]]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for (slo, field, reason), n in sorted(counts.items()):
        out.setdefault(slo, {}).setdefault(field, {})[reason] = n
    return out


def run_slotail(*args: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "slotail", "--log-format", "json", *args]
    return subprocess.run(cmd, capture_output=True, timeout=300)


def backfill_json(config: Path, *logs: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The JSON report (exit 0 required) and slotail's log records."""
    flags = ["--format", "json", "--no-progress"]
    proc = run_slotail("backfill", "--config", str(config), *flags, *map(str, logs))
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    return json.loads(proc.stdout), [json.loads(line) for line in proc.stderr.splitlines()]


def mismatch_warnings(logged: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (r["slo"], r["field"], r["reason"]) for r in logged if r.get("level") == "warning" and "field" in r
    ]


# ---- (a) nginx's quoted numbers --------------------------------------------------------------------


def test_quoted_nginx_numbers_are_reported_per_slo_field_and_reason(tmp_path: Path) -> None:
    """`"status":"503"` under `gte: 500`: diagnostics name status/wrong_type (and the quoted latency),
    with the counts of the raw lines; the backfill exits 0 but warns once per (slo, field, reason)."""
    records = nginx_lines(3000)
    config = write_config(tmp_path, NGINX)
    log = write(tmp_path / "access.log", records)
    doc, logged = backfill_json(config, log)
    truth = nginx_truth(records)
    assert truth["availability"]["status"] == {"wrong_type": 3000}
    assert doc["diagnostics"]["field_mismatch"] == truth
    assert sorted(mismatch_warnings(logged)) == [
        ("availability", "status", "wrong_type"),
        ("latency", "request_time", "wrong_type"),
    ]


def test_check_logs_exits_1_naming_the_quoted_field_and_the_declaration_that_reads_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, NGINX)
    log = write(tmp_path / "access.log", nginx_lines(500))
    proc = run_slotail("check", "--config", str(config), "--logs", str(log))
    assert proc.returncode == 1, proc.stdout.decode() + proc.stderr.decode()
    out = proc.stdout.decode()
    assert "availability" in out and "status" in out and "string in 500 of 500 events" in out
    assert "fields: {status: number}" in out
    assert "request_time" in out


def test_check_logs_reads_only_the_sample_of_each_file_gz_too(tmp_path: Path) -> None:
    config = write_config(tmp_path, NGINX)
    records = nginx_lines(300)
    plain = write(tmp_path / "a.log", records)
    packed = tmp_path / "b.log.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    proc = run_slotail("check", "--config", str(config), "--logs", str(plain), str(packed), "--sample", "100")
    out = proc.stdout.decode()
    assert "200 lines" in out, out  # 100 of each file
    assert "in 200 of 200 events" in out


# ---- (b) flat OpenTelemetry keys ---------------------------------------------------------------------


def test_flat_otel_keys_read_as_nested_paths_are_reported_missing(tmp_path: Path) -> None:
    records = otel_lines(2000)
    config = write_config(tmp_path, OTEL)
    doc, logged = backfill_json(config, write(tmp_path / "app.log", records))
    events = sum(r["msg"] == "request" for r in records)
    expected = {"availability": {"http.response.status_code": {"missing": events}}}
    assert doc["diagnostics"]["field_mismatch"] == expected
    assert mismatch_warnings(logged) == [("availability", "http.response.status_code", "missing")]
    assert doc["slos"][0]["events"]["bad"] == 0  # what the warning is about: every 503 counted good


def test_check_logs_suggests_the_pointer_for_a_flat_key_with_dots(tmp_path: Path) -> None:
    config = write_config(tmp_path, OTEL)
    proc = run_slotail(
        "check", "--config", str(config), "--logs", str(write(tmp_path / "app.log", otel_lines(300)))
    )
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert "http.response.status_code" in out and "never seen" in out
    assert "/http.response.status_code" in out


def test_check_logs_exits_1_when_an_slo_matches_no_event(tmp_path: Path) -> None:
    config = write_config(tmp_path, OTEL.replace("{msg: request}", "{msg: requests}"))
    proc = run_slotail(
        "check", "--config", str(config), "--logs", str(write(tmp_path / "app.log", otel_lines(50)))
    )
    assert proc.returncode == 1
    assert "no event" in proc.stdout.decode()


def test_check_logs_exits_0_on_logs_the_config_reads(tmp_path: Path) -> None:
    records = otel_lines(200)
    fixed = [{**r, "http": {"response": {"status_code": r["http.response.status_code"]}}} for r in records]
    config = write_config(tmp_path, OTEL)
    proc = run_slotail("check", "--config", str(config), "--logs", str(write(tmp_path / "app.log", fixed)))
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    events = sum(r["msg"] == "request" for r in records)
    bad = sum(r["msg"] == "request" and r["http.response.status_code"] >= 500 for r in records)
    assert f"{events} events: {events - bad} good, {bad} bad, 0 excluded" in proc.stdout.decode()


def test_check_logs_json_is_machine_readable(tmp_path: Path) -> None:
    config = write_config(tmp_path, NGINX)
    records = nginx_lines(100)
    proc = run_slotail(
        "check",
        "--config",
        str(config),
        "--logs",
        str(write(tmp_path / "a.log", records)),
        "--format",
        "json",
    )
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    [availability] = [s for s in doc["slos"] if s["name"] == "availability"]
    assert availability["events"] == {"events": 100, "good": 100, "bad": 0, "excluded": 0}
    assert availability["field_mismatch"] == nginx_truth(records)["availability"]
    assert availability["ok"] is False


# ---- (d) the counts equal the raw lines', in one process and in workers --------------------------


def mixed_records(n: int) -> list[dict[str, Any]]:
    """Every shape at once: numbers, quoted numbers, nulls, missing fields, lines of no SLO."""
    rng = random.Random(9)
    records = []
    for i in range(n):
        r: dict[str, Any] = {"time_iso8601": iso(T0_MS + i * 100)}
        if rng.random() < 0.9:
            r["request_method"] = rng.choice(["GET", "POST"])
        status = rng.choice([200, "200", 503, "503", None, "absent"])
        if status != "absent":
            r["status"] = status
        latency = rng.choice([0.1, 0.5, "0.1", None, True, "absent"])
        if latency != "absent":
            r["request_time"] = latency
        records.append(r)
    return records


def test_mismatch_counts_equal_the_raw_lines_with_one_process_and_with_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = mixed_records(12_000)
    config = write_config(tmp_path, NGINX)
    log = write(tmp_path / "mixed.log", records)
    monkeypatch.setattr(slotail.workers, "BLOCK_BYTES", 64 << 10)  # several blocks: workers read it
    used, close = [], Workers.close

    def spy(self: Workers) -> None:
        used.append(self._pool is not None)
        close(self)

    monkeypatch.setattr(Workers, "close", spy)
    found = []
    for workers in ("1", "2"):
        flags = ["--format", "json", "--no-progress", "--workers", workers]
        result = CliRunner().invoke(cli, ["backfill", "--config", str(config), *flags, str(log)])
        assert result.exit_code == 0, result.output
        found.append(json.loads(result.stdout)["diagnostics"]["field_mismatch"])
    assert used == [True]  # the second run went through the worker processes
    assert found[0] == found[1] == nginx_truth(records)


# ---- exit codes and report lines --------------------------------------------------------------------


def test_a_backfill_where_every_line_is_invalid_exits_1_saying_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, NGINX)
    log = tmp_path / "wrong.log"
    log.write_text('{"timestamp": 1771491600000, "status": 200}\nnot json\n')  # no time_iso8601
    proc = run_slotail("backfill", "--config", str(config), "--format", "json", "--no-progress", str(log))
    assert proc.returncode == 1
    assert "every line" in proc.stderr.decode() and "invalid" in proc.stderr.decode()
    assert json.loads(proc.stdout)["lines"]["invalid"] == 2  # the report is still written


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_reports_carry_a_warning_line_naming_the_fields(tmp_path: Path, fmt: str) -> None:
    """Only when something could not be read."""
    config = write_config(tmp_path, NGINX)
    quoted = nginx_lines(50)
    numbers = [{**r, "status": int(r["status"]), "request_time": float(r["request_time"])} for r in quoted]
    reports = []
    for name, records in (("quoted.log", quoted), ("numbers.log", numbers)):
        log = write(tmp_path / name, records)
        proc = run_slotail("backfill", "--config", str(config), "--format", fmt, "--no-progress", str(log))
        assert proc.returncode == 0, proc.stderr.decode()
        reports.append(proc.stdout.decode())
    warned, clean = reports
    assert "cannot read" in warned and "availability" in warned
    assert "status" in warned and "wrong_type" in warned
    assert "cannot read" not in clean


# ---- (c) the sidecar's counter ---------------------------------------------------------------------


def write_config(tmp_path: Path, text: str, logs: Path | None = None) -> Path:
    """A config file of `text`, with a source tailing `logs/*.log` from the beginning when given."""
    path = tmp_path / "slotail.yaml"
    sources = ""
    if logs is not None:
        pattern = json.dumps(str(logs / "*.log"))
        sources = f"sources:\n  - {{name: api, paths: [{pattern}], start_at: beginning}}\n"
    path.write_text(sources + text)
    return path


def mismatch_counter(sidecar: Sidecar, slo: str, field: str, reason: str) -> float:
    labels = frozenset({("slo", slo), ("field", field), ("reason", reason)})
    return sidecar.metrics().get(("slotail_field_mismatch_total", labels), 0.0)


def test_the_sidecar_counts_mismatches_and_keeps_them_across_a_restart(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    config = write_config(tmp_path, NGINX, logs)
    now_ms = int(time.time() * 1000)
    first = [{**r, "time_iso8601": iso(now_ms - 60_000 + i)} for i, r in enumerate(nginx_lines(200))]
    write(logs / "access.log", first)
    sidecar = Sidecar(tmp_path, config)
    try:
        sidecar.start()
        wait_until(
            lambda: mismatch_counter(sidecar, "availability", "status", "wrong_type") == 200,
            describe=sidecar.diagnostics,
        )
        assert sidecar.stop(signal.SIGTERM) == 0
        sidecar.start()
        assert mismatch_counter(sidecar, "availability", "status", "wrong_type") == 200  # restored
        more = [{**r, "time_iso8601": iso(now_ms + i)} for i, r in enumerate(nginx_lines(50, seed=8))]
        with open(logs / "access.log", "ab") as f:
            f.write(b"".join(json.dumps(r).encode() + b"\n" for r in more))
        wait_until(
            lambda: mismatch_counter(sidecar, "availability", "status", "wrong_type") == 250,
            describe=sidecar.diagnostics,
        )
        gets = sum(r["request_method"] == "GET" for r in first + more)
        assert mismatch_counter(sidecar, "latency", "request_time", "wrong_type") == gets
        warnings = [json.loads(line) for line in sidecar.stderr().splitlines() if line.startswith("{")]
        assert len(mismatch_warnings(warnings)) == 4  # once per (slo, field, reason) per start
    finally:
        sidecar.close()


def test_check_logs_exits_2_on_a_config_error_and_on_logs_without_the_flag(tmp_path: Path) -> None:
    log = write(tmp_path / "a.log", nginx_lines(10))
    broken = write_config(tmp_path, NGINX.replace("objective: 99.5", "objective: 101"))
    assert run_slotail("check", "--config", str(broken), "--logs", str(log)).returncode == 2
    config = write_config(tmp_path, NGINX)
    proc = run_slotail("check", "--config", str(config), str(log))
    assert proc.returncode == 2 and b"--logs" in proc.stderr
