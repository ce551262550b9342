"""An exhaustion-time alert fires at the same evaluations in `slotail rules` (promtool) as in a backfill.

The test makes raw events, backfills them, and derives from the same events the counters a sidecar
exports once a minute; promtool then evaluates the generated rules over those samples."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.golden import run_backfill
from tests.promstack import generate_rules
from tests.tools import require

pytestmark = pytest.mark.integration
US = 1_000_000
T0_S = 1_771_459_200  # 2026-02-19T00:00:00Z, a minute edge: promtool's time 0
MINUTES = 300
CONFIG = """
store: {bucket: 10s}
slos:
  - name: checkout
    objective: 99
    period: 6h
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: soon, severity: page, exhausts_within: 2h, window: 10m}
"""


def error_rate(minute: int) -> float:
    """Quiet, then a 20-minute burn at 2x (the budget would go within 2 h: fires, then stops with the
    burn), then a 20-minute burn at 8x (fires, then stops as the budget runs out)."""
    if 60 <= minute < 80:
        return 0.02
    if 150 <= minute < 170:
        return 0.08
    return 0.003


def events() -> tuple[np.ndarray, np.ndarray]:
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


def test_exhaustion_alert_fires_at_the_same_evaluations_in_promtool_as_in_the_backfill(
    tmp_path: Path,
) -> None:
    """At every minute promtool's ALERTS agrees with the backfill: firing where it was active, absent
    where it was not. (Evaluated in the rule file's group order, recordings first, there is no lag of a
    step between the recorded burn rates and the alert that reads them; Prometheus may have one.)"""
    promtool = require("promtool", "prometheus")
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    ts, bad = events()
    log = tmp_path / "api.log"
    order = np.argsort(ts, kind="stable")
    log.write_text(
        "".join(
            json.dumps({"timestamp": int(t) / US, "event": "failed" if b else "ok"}) + "\n"
            for t, b in zip(ts[order].tolist(), bad[order].tolist(), strict=True)
        )
    )
    doc = run_backfill(config, [log], "--at", "2026-02-19T05:00:00Z")
    [alert] = doc["slos"][0]["alerts"]
    minutes = np.arange(1, MINUTES + 1)
    active = active_at(alert["intervals"], minutes)
    assert len(alert["intervals"]) >= 2  # each burn fires it (and the budget, low by then, keeps it close)

    # What a sidecar exports: cumulative counters sampled every minute from time 0 (no event at 0).
    samples = (T0_S + 60 * np.arange(MINUTES + 1)) * US
    good_cum = np.searchsorted(np.sort(ts[~bad]), samples, side="right")
    bad_cum = np.searchsorted(np.sort(ts[bad]), samples, side="right")
    series = 'slotail_sli_events_total{{slo="checkout",outcome="{}",instance="pod-a"}}'
    labels = (
        'ALERTS{alertname="SLOErrorBudgetExhaustion",alert="soon",alertstate="firing",slo="checkout",'
        'severity="page"}'
    )
    tests = []
    for i, minute in enumerate(minutes.tolist()):
        tests.append(
            {
                "expr": 'ALERTS{alertname="SLOErrorBudgetExhaustion",alertstate="firing"}',
                "eval_time": f"{minute}m",
                "exp_samples": [{"labels": labels, "value": 1}] if active[i] else [],
            }
        )
    assert sum(bool(t["exp_samples"]) for t in tests) >= 30 and len(tests) >= MINUTES - 20
    unit = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": series.format("good"), "values": " ".join(map(str, good_cum.tolist()))},
                    {"series": series.format("bad"), "values": " ".join(map(str, bad_cum.tolist()))},
                ],
                "promql_expr_test": tests,
            }
        ],
    }
    rules = yaml.safe_load(generate_rules(config, tmp_path / "rules.yaml").read_text())
    # Groups in the rule file's order (promtool's own order is random): recordings, then the SLO's.
    unit["group_eval_order"] = [group["name"] for group in rules["groups"]]
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(unit))
    proc = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "test.yaml")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
