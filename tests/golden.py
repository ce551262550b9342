"""Compare a backfill JSON document with the oracle's computation over the scenario's raw events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import oracle
from tests.scenarios import Scenario

LABELS = {
    300: "5m",
    1800: "30m",
    3600: "1h",
    7200: "2h",
    21600: "6h",
    86400: "1d",
    259200: "3d",
    604800: "7d",
    2592000: "30d",
}


def run_backfill(config: Path, files: list[Path], *extra: str) -> dict:
    """The real CLI's JSON document."""
    return json.loads(backfill_report(config, files, "json", *extra))


def backfill_report(config: Path, files: list[Path], fmt: str, *extra: str) -> str:
    """The real CLI's report in a format (json, markdown, html, table)."""
    cmd = [
        sys.executable,
        "-m",
        "slotail",
        "backfill",
        "--config",
        str(config),
        "--format",
        fmt,
        "--no-progress",
    ]
    proc = subprocess.run([*cmd, *extra, *map(str, files)], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    return proc.stdout.decode()


def approx(value):
    return None if value is None else pytest.approx(value, rel=1e-12, abs=1e-15)


def check_document(doc: dict, scenario: Scenario, at_us: int | None = None) -> None:
    """Every number of the document equals the oracle's (percentiles within HDR precision)."""
    truths = scenario.truths()
    at = at_us if at_us is not None else scenario.last_us
    assert doc["evaluated_at"] == oracle.iso(at)
    assert doc["lines"] == {
        "read": len(scenario.ts_us) + scenario.invalid_lines,
        "parsed": len(scenario.ts_us),
        "invalid": scenario.invalid_lines,
        "unmatched": 0,
    }
    kept = scenario.ts_us[scenario.ts_us <= at]
    steps = oracle.steps(int(kept.min()), at)
    by_name = {s["name"]: s for s in doc["slos"]}
    assert set(by_name) == {t.name for t in truths}
    for truth in truths:
        check_slo(by_name[truth.name], truth, at, steps)


def check_slo(got: dict, truth: oracle.SLOTruth, at: int, steps: list[int]) -> None:
    name = truth.name
    period = truth.period_s
    events = {k: int(truth.count([at], period, k)[0]) for k in ("good", "bad", "excluded")}
    assert got["events"] == events, name
    total = events["good"] + events["bad"]
    assert got["sli"] == approx(events["good"] / total if total else None), name
    budget = truth.budget(at)
    assert got["error_budget"] == {k: approx(v) for k, v in budget.items()}, name
    assert got["status"] == oracle.status(budget["remaining_ratio"]), name
    windows = {a["long_s"] for a in truth.alerts} | {a["short_s"] for a in truth.alerts if a.get("short_s")}
    windows.add(period)
    assert set(got["windows"]) == {LABELS[w] for w in windows}, name
    for w in windows:
        expected = {k: approx(v) for k, v in truth.window(at, w).items()}
        assert got["windows"][LABELS[w]] == expected, (name, LABELS[w])
    for alert in truth.alerts:
        intervals, active = truth.alert_intervals(steps, alert)
        [found] = [a for a in got["alerts"] if a["name"] == alert["name"]]
        assert found["intervals"] == intervals, (name, alert["name"])
        assert found["active"] is active, (name, alert["name"])
        assert found["burn_rate"] == pytest.approx(alert["factor"]), (name, alert["name"])
    if truth.latency_ms is not None:
        for w in windows:
            for p in (50, 95, 99):
                exact = truth.percentile(at, w, p)
                value = got["latency"]["percentiles_ms"][LABELS[w]][f"p{p}"]
                if exact is None:
                    assert value is None
                else:  # HDR, 3 significant figures: within 1/1024 relative, plus µs rounding
                    assert abs(value - exact) <= exact / 1024 + 0.001, (name, LABELS[w], p, value, exact)
