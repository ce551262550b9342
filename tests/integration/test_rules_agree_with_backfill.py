"""`slotail rules` (run by promtool) fire alerts at the same evaluations as a backfill of the same events.

Each test makes raw events, backfills them, and derives from the same events the counters a sidecar
exports once a minute; promtool then evaluates the generated rules over those samples, in the rule
file's group order (recordings first: promtool's own order is random, and Prometheus may lag a step)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.golden import run_backfill
from tests.promstack import generate_rules
from tests.tools import require

pytestmark = pytest.mark.integration
US = 1_000_000
T0_S = 1_771_459_200  # 2026-02-19T00:00:00Z, a minute (and 5-minute) edge: promtool's time 0
MINUTES = 300
EXHAUSTION = """
store: {bucket: 10s}
slos:
  - name: checkout
    objective: 99
    period: 6h
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: soon, severity: page, exhausts_within: 2h, window: 10m}
"""
TIMESLICES = """
store: {bucket: 10s}
slos:
  - name: checkout
    objective: 95
    period: 6h
    budgeting: timeslices
    slice: 5m
    slice_target: 98
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: slices, severity: page, burn_rate: 6, long_window: 1h, short_window: 10m}
      - {name: budget, severity: ticket, budget_below: 50}
  - name: skipping
    objective: 95
    period: 6h
    budgeting: timeslices
    slice: 5m
    slice_target: 98
    empty_slices: skip
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: skipped, severity: page, burn_rate: 6, window: 30m, min_events: 5}
"""


def exhaustion_errors(minute: int) -> float:
    """Quiet, then a 20-minute burn at 2x (the budget would go within 2 h: fires, then stops with the
    burn), then a 20-minute burn at 8x (fires again, the budget low from then on)."""
    if 60 <= minute < 80:
        return 0.02
    if 150 <= minute < 170:
        return 0.08
    return 0.003


def slice_errors(minute: int) -> float:
    """1% (a 5-minute slice of 1000 events misses 98% now and then), 4% for 40 minutes, 2.5% for an hour."""
    if 60 <= minute < 100:
        return 0.04
    if 180 <= minute < 240:
        return 0.025
    return 0.01


def events(error_rate: Callable[[int], float]) -> tuple[np.ndarray, np.ndarray]:
    """(times µs, bad) of about 200 events a minute, some stamped exactly on a minute edge."""
    rng = np.random.default_rng(8)
    stamps, bad = [], []
    for minute in range(MINUTES):
        n = int(rng.poisson(200))
        offsets = rng.integers(1, 60 * US + 1, n)  # in (start, end] of the minute
        offsets[: n // 20] = 60 * US  # on the edge that closes the minute
        stamps.append((T0_S + 60 * minute) * US + offsets)
        bad.append(rng.random(n) < error_rate(minute))
    return np.concatenate(stamps), np.concatenate(bad)


def active_at(intervals: list[dict], minutes: np.ndarray) -> np.ndarray:
    """Whether the backfill had the alert active at each minute (intervals hold their start)."""

    def minute(text: str) -> int:
        return (int(np.datetime64(text.rstrip("Z"), "s").astype(np.int64)) - T0_S) // 60

    active = np.zeros(len(minutes), bool)
    for interval in intervals:
        end = minute(interval["end"]) if interval["end"] else MINUTES + 1
        active |= (minutes >= minute(interval["start"])) & (minutes < end)
    return active


def agree(
    tmp_path: Path, config_text: str, error_rate: Callable[[int], float], every: int = 1
) -> dict[str, np.ndarray]:
    """Backfill the events, then have promtool evaluate the rules every `every` minutes and check every
    alert then against the backfill; each alert's minutes active in the backfill, by name."""
    promtool = require("promtool", "prometheus")
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text)
    ts, bad = events(error_rate)
    order = np.argsort(ts, kind="stable")
    log = tmp_path / "api.log"
    log.write_text(
        "".join(
            json.dumps({"timestamp": int(t) / US, "event": "failed" if b else "ok"}) + "\n"
            for t, b in zip(ts[order].tolist(), bad[order].tolist(), strict=True)
        )
    )
    slos = run_backfill(config, [log], "--at", "2026-02-19T05:00:00Z")["slos"]
    rules = yaml.safe_load(generate_rules(config, tmp_path / "rules.yaml").read_text())
    alertnames = {
        r["labels"]["alert"]: r["alert"]
        for g in rules["groups"]
        for r in g["rules"]
        if "alert" in r.get("labels", {})
    }
    minutes = np.arange(1, MINUTES + 1)
    found, tests = {}, []
    for slo, alert in ((each, alert) for each in slos for alert in each["alerts"]):
        active = found[alert["name"]] = active_at(alert["intervals"], minutes)
        name, severity = alertnames[alert["name"]], alert["severity"]
        labels = (
            f'ALERTS{{alertname="{name}",alert="{alert["name"]}",alertstate="firing",slo="{slo["name"]}",'
            f'severity="{severity}"}}'
        )
        expr = f'ALERTS{{alertname="{name}",alert="{alert["name"]}",alertstate="firing"}}'
        tests += [
            {
                "expr": expr,
                "eval_time": f"{m}m",
                "exp_samples": [{"labels": labels, "value": 1}] if on else [],
            }
            for m, on in zip(minutes.tolist(), active.tolist(), strict=True)
            if m % every == 0
        ]
    # What a sidecar exports: cumulative counters sampled every minute from time 0 (no event at 0).
    samples = (T0_S + 60 * np.arange(MINUTES + 1)) * US
    series = 'slotail_sli_events_total{{slo="{}",outcome="{}",instance="pod-a"}}'
    cumulative = {
        series.format(slo["name"], outcome): np.searchsorted(np.sort(ts[which]), samples, side="right")
        for slo in slos
        for outcome, which in (("good", ~bad), ("bad", bad))
    }
    unit = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": f"{every}m",
        "group_eval_order": [group["name"] for group in rules["groups"]],
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": name, "values": " ".join(map(str, values.tolist()))}
                    for name, values in cumulative.items()
                ],
                "promql_expr_test": tests,
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(unit))
    proc = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "test.yaml")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return found


def test_an_exhaustion_alert_fires_at_the_same_minutes_in_promtool_as_in_the_backfill(tmp_path: Path) -> None:
    """remaining × period ÷ burn(10m) ≤ 2h: each burn fires it, one stops with the burn, and promtool's
    ALERTS is firing at exactly the minutes the backfill had it active."""
    [soon] = agree(tmp_path, EXHAUSTION, exhaustion_errors).values()
    assert soon.sum() >= 30 and np.count_nonzero(np.diff(soon.astype(int)) == 1) >= 2


def test_timeslice_alerts_fire_at_the_same_minutes_in_promtool_as_in_the_backfill(tmp_path: Path) -> None:
    """5-minute slices judged fleet-wide once a slice (a group of their own): a multi-window slice burn
    alert, a budget alert, and a burn alert with `min_events` (slices not skipped) agree with the backfill
    every 5 minutes (promtool evaluates every group at
    its evaluation interval, whatever the group's own: so the rules are evaluated once a slice)."""
    found = agree(tmp_path, TIMESLICES, slice_errors, every=5)
    assert all(active.sum() >= 10 for active in found.values())
    assert not found["slices"].all() and not found["budget"].all()
    assert not found["skipped"][:35].any()  # fewer than 5 slices in its first half hour: min_events holds it
