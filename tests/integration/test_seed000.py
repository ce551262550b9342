"""Seed 000 (MaleBangkok): PART 3's worked examples and PART 4's alert table, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import oracle
from tests.golden import run_backfill

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).parents[1] / "data" / "seed000-policy.yaml"
START = 1_771_491_600 * 10**6  # 2026-02-19T09:00:00Z


def requests(seconds: int, count: int, failures: int, start_us: int = START) -> list[bytes]:
    """`count` GET /api/guides spread evenly over (start, start + seconds], `failures` of them 5xx, evenly."""
    out = []
    every = count / failures if failures else None
    for i in range(count):
        ts_ms = (start_us + (i + 1) * seconds * 10**6 // count) // 1000
        failed = every is not None and int((i + 1) / every) > int(i / every)
        doc = {
            "event": "http_request_completed",
            "method": "GET",
            "path": "/api/guides",
            "statusCode": 500 if failed else 200,
            "responseTimeMs": 120,
            "timestamp": ts_ms,
        }
        out.append(json.dumps(doc).encode())
    return out


def healthy_month() -> list[bytes]:
    """The 30 days before START: one good request a minute, so the budget is mostly intact."""
    return requests(30 * 86400, 43_200, 0, START - 30 * 86400 * 10**6)


def backfill(tmp_path: Path, lines: list[bytes], seconds: int) -> dict:
    log = tmp_path / "application.log"
    log.write_bytes(b"\n".join(lines) + b"\n")
    doc = run_backfill(CONFIG, [log], "--at", oracle.iso(START + seconds * 10**6))
    return next(s for s in doc["slos"] if s["name"] == "api-availability")


def active(slo: dict) -> set[str]:
    return {a["name"] for a in slo["alerts"] if a["active"]}


def test_scenario_1_five_percent_over_five_minutes_burns_at_10x(tmp_path):
    """PART 3, scenario 1: 5% failures for 5 minutes on 99.5% burn at 10x; a page fires."""
    slo = backfill(tmp_path, healthy_month() + requests(300, 2000, 100), 300)
    five = slo["windows"]["5m"]
    assert five["error_ratio"] == pytest.approx(0.05)
    assert five["burn_rate"] == pytest.approx(10.0)
    remaining = slo["error_budget"]["remaining_ratio"]
    assert 0 < remaining < 1
    # "43,200 / 10 = 4,320 minutes (3 days)" scaled by what is left of the budget.
    assert five["exhaustion_hours"] == pytest.approx(remaining * 720 / 10)
    assert slo["error_budget"]["total_minutes"] == pytest.approx(216.0)  # PART 2's 216 minutes
    assert "slo_fast_burn_critical" in active(slo)


def test_scenario_2_point_eight_percent_over_an_hour_burns_at_1_6x(tmp_path):
    """PART 3, scenario 2: 0.8% over 1 h is 1.6x: the medium slow-burn alert, not the fast ones."""
    slo = backfill(tmp_path, healthy_month() + requests(3600, 10_000, 80), 3600)
    assert slo["windows"]["1h"]["burn_rate"] == pytest.approx(1.6)
    assert active(slo) == {"slo_slow_burn_medium", "slo_slow_burn_low"}


def test_scenario_3_point_three_percent_burns_at_0_6x(tmp_path):
    """PART 3, scenario 3: 0.3% over 1 h is 0.6x, within budget: only the informational low alert."""
    slo = backfill(tmp_path, healthy_month() + requests(3600, 10_000, 30), 3600)
    assert slo["windows"]["1h"]["burn_rate"] == pytest.approx(0.6)
    assert active(slo) == {"slo_slow_burn_low"}
    assert slo["status"] == "healthy"


@pytest.mark.parametrize(
    ("alert", "window_s", "threshold_ratio"),
    [
        ("slo_fast_burn_critical", 300, 0.025),  # >= 5x: error rate >= 2.5% in 5 min
        ("slo_fast_burn_high", 900, 0.010),  # >= 2x: >= 1.0% in 15 min
        ("slo_slow_burn_medium", 3600, 0.005),  # >= 1x: >= 0.5% in 1 hour
        ("slo_slow_burn_low", 14400, 0.0025),  # >= 0.5x: >= 0.25% in 4 hours
    ],
)
def test_part_4_table_fires_at_its_threshold_and_not_below(tmp_path, alert, window_s, threshold_ratio):
    """Each row of PART 4's table: the alert fires at its error rate over its window, not just below it."""
    count = 20_000
    at = backfill(tmp_path, requests(window_s, count, round(count * threshold_ratio)), window_s)
    below = backfill(tmp_path, requests(window_s, count, round(count * threshold_ratio) - 1), window_s)
    assert alert in active(at)
    assert alert not in active(below)


def _payments(tmp_path: Path, failures: int) -> dict:
    lines = []
    for i in range(200):
        ts = oracle.iso(START + (i + 1) * 1_500_000)  # one every 1.5 s for 5 minutes
        event = "payment_intent_creation_failed" if i % (200 // failures) == 0 else "payment_intent_ready"
        lines.append(json.dumps({"event": event, "timestamp": ts}).encode())
    log = tmp_path / "payments.log"
    log.write_bytes(b"\n".join(lines) + b"\n")
    doc = run_backfill(CONFIG, [log], "--at", oracle.iso(START + 300 * 10**6))
    return next(s for s in doc["slos"] if s["name"] == "payment-success")


def test_payment_success_below_95_percent_in_5_minutes_pages(tmp_path):
    """PART 4, Payment Failure Spike: 12.5% failures pages; 4% does not."""
    assert "payment_failure_spike" in active(_payments(tmp_path, 25))
    assert "payment_failure_spike" not in active(_payments(tmp_path, 8))
