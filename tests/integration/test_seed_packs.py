"""config/examples/: each seed's own SLOs, fed generated logs through the real CLI, alert and decide
as the seed says."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import oracle
from tests.golden import run_backfill

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).parents[2] / "config" / "examples"
T0 = 1_772_323_200 * 10**6  # 2026-03-01T00:00:00Z, a Sunday (bookiji's maintenance day)
MIN = 60 * 10**6
Line = Callable[[int, int], dict[str, Any]]  # (µs, index) -> the JSON object of one line


def spread(start_us: int, minutes: float, count: int) -> Iterator[tuple[int, int]]:
    """(time, index) of `count` events evenly over (start, start + minutes]."""
    span = int(minutes * MIN)
    for i in range(count):
        yield start_us + (i + 1) * span // count, i


def every_nth(n: int) -> Callable[[int], bool]:
    """True for every n-th index (never for n = 0): failures spread evenly."""
    return lambda i: n > 0 and i % n == n - 1


def backfill(tmp_path: Path, config: str, lines: list[dict[str, Any]], at_us: int) -> dict[str, Any]:
    log = tmp_path / "app.log"
    ordered = sorted(lines, key=lambda d: json.dumps(d))  # any order: backfill reads in event time
    log.write_text("".join(json.dumps(d) + "\n" for d in ordered))
    return run_backfill(EXAMPLES / config, [log], "--at", oracle.iso(at_us))


def slo(doc: dict[str, Any], name: str, **labels: str) -> dict[str, Any]:
    """The SLO named, or (given labels) its series with exactly those group labels."""
    return next(s for s in doc["slos"] if s["name"] == name and s.get("labels", {}) == labels)


def active(doc: dict[str, Any], name: str) -> set[str]:
    return {a["name"] for a in slo(doc, name)["alerts"] if a["active"]}


def fired(doc: dict[str, Any], name: str) -> set[str]:
    return {a["name"] for a in slo(doc, name)["alerts"] if a["intervals"]}


# ---- seed 000: MaleBangkok -------------------------------------------------------------------------


def mb_request(status: Callable[[int], int]) -> Line:
    def line(t: int, i: int) -> dict[str, Any]:
        return {
            "event": "http_request_completed",
            "method": "GET",
            "path": "/api/guides",
            "statusCode": status(i),
            "responseTimeMs": 120,
            "timestamp": t // 1000,
        }

    return line


def mb_payments(start: int, minutes: float, count: int, fail: Callable[[int], bool]) -> list[dict[str, Any]]:
    return [
        {
            "event": "payment_intent_creation_failed" if fail(i) else "payment_intent_ready",
            "timestamp": oracle.iso(t),
        }
        for t, i in spread(start, minutes, count)
    ]


@pytest.mark.parametrize(("every", "pages"), [(10, True), (25, False)])
def test_malebangkok_payment_success_below_95_percent_in_5_minutes_pages(tmp_path, every, pages):
    """PART 4: 90% success over 5 minutes pages (payment_failure_spike); 96% does not."""
    lines = mb_payments(T0, 5, 200, every_nth(every))
    doc = backfill(tmp_path, "malebangkok.yaml", lines, T0 + 5 * MIN)
    assert ("payment_failure_spike" in active(doc, "payment-success")) is pages
    assert slo(doc, "payment-success")["windows"]["5m"]["error_ratio"] == pytest.approx(1 / every)


@pytest.mark.parametrize(
    ("every", "decision", "why"),
    [
        (150, "FREEZE", "api-availability"),  # 0.67% 5xx for a day: burn 1.3x, budget overspent
        (300, "CAUTIOUS", "api-availability"),  # 0.33%: 72 of 216 min left, burn 0.67x
        (0, "CAUTIOUS", None),  # no failures, but webhook's 43-minute budget is always <= 100
    ],
)
def test_malebangkok_release_freeze_decision_tree(tmp_path, every, decision, why):
    """PART 7: <= 20 min left and burn >= 1x over 24 h freezes; <= 100 min is cautious."""
    requests = [
        mb_request(lambda i: 500 if every_nth(every)(i) else 200)(t, i) for t, i in spread(T0, 1440, 6000)
    ]
    webhooks = [
        {"event": "stripe_webhook_success", "timestamp": oracle.iso(T0 + i * 10 * MIN)} for i in range(100)
    ]
    doc = backfill(tmp_path, "malebangkok.yaml", requests + webhooks, T0 + 1440 * MIN)
    availability = slo(doc, "api-availability")
    remaining = availability["error_budget"]["remaining_minutes"]
    if decision == "FREEZE":
        assert remaining <= 20 and availability["windows"]["1d"]["burn_rate"] >= 1
    assert doc["release"]["decision"] == decision, doc["release"]
    if why is not None:
        assert why in doc["release"]["slos"], doc["release"]
    else:
        assert doc["release"]["slos"] == ["webhook-success"]


def test_malebangkok_payment_below_99_percent_in_6_hours_freezes(tmp_path):
    """PART 7 automatic freeze 2: payment success < 99.0% in the last 6 hours, whatever else."""
    lines = mb_payments(T0, 360, 1000, every_nth(80))  # 98.75%
    doc = backfill(tmp_path, "malebangkok.yaml", lines, T0 + 360 * MIN)
    assert doc["release"]["decision"] == "FREEZE"
    assert doc["release"]["slos"] == ["payment-success"], doc["release"]


# ---- seed 001: Bookiji ------------------------------------------------------------------------------


def synthetic(start: int, results: list[bool]) -> list[dict[str, Any]]:
    """A synthetic check every 15 minutes from `start`."""
    return [
        {"ts": oracle.iso(start + i * 15 * MIN), "kind": "synthetic", "check": "health", "ok": ok}
        for i, ok in enumerate(results)
    ]


def test_bookiji_alerts_only_after_two_consecutive_synthetic_failures(tmp_path):
    """Two-strike rule: one failed check is quiet, two in a row page (P0)."""
    start = T0 + 6 * 60 * MIN  # after the maintenance window
    one = synthetic(start, [True] * 4 + [False] + [True] * 4)
    doc = backfill(tmp_path, "bookiji.yaml", one, start + 8 * 15 * MIN)
    assert fired(doc, "availability") == set()
    two = synthetic(start, [True] * 4 + [False, False] + [True] * 3)
    doc = backfill(tmp_path, "bookiji.yaml", two, start + 8 * 15 * MIN)
    assert fired(doc, "availability") == {"synthetic-two-strikes"}


def test_bookiji_failures_in_the_first_sunday_maintenance_window_count_neither_way(tmp_path):
    """2:00-4:00 UTC on the month's first Sunday is maintenance: its failed checks are excluded."""
    results = [True] * 8 + [False] * 8 + [True] * 8  # 00:01-02:00 ok, 02:01-04:00 failing, then ok
    # From a minute past midnight: the month's period is (00:00, now], its first instant left out.
    doc = backfill(tmp_path, "bookiji.yaml", synthetic(T0 + MIN, results), T0 + 6 * 60 * MIN)
    availability = slo(doc, "availability")
    assert availability["events"] == {"good": 16, "bad": 0, "excluded": 8}
    assert fired(doc, "availability") == set()
    assert availability["period"] == "month"


# ---- seed 002: Avalo -------------------------------------------------------------------------------


def wallet(start: int, minutes: float, count: int, status: Callable[[int], tuple[str, str]]) -> list[dict]:
    out = []
    for t, i in spread(start, minutes, count):
        state, reason = status(i)
        out.append(
            {
                "time": oracle.iso(t),
                "metric": "product.wallet.spend",
                "status": state,
                "reason": reason,
                "latency_ms": 90,
            }
        )
    return out


@pytest.mark.parametrize(
    ("failures", "reason", "p0"),
    [(11, "db_timeout", True), (10, "db_timeout", False), (40, "insufficient_balance", False)],
)
def test_avalo_more_than_ten_wallet_failures_in_ten_minutes_is_p0(tmp_path, failures, reason, p0):
    """4.1: > 10 system failures in 10 minutes pages P0; insufficient balance is excluded."""
    lines = wallet(T0, 10, 500, lambda i: ("failed", reason) if i < failures else ("succeeded", ""))
    doc = backfill(tmp_path, "avalo.yaml", lines, T0 + 10 * MIN)
    spend = slo(doc, "wallet-spend")
    assert ("p0-10-failures-in-10m" in active(doc, "wallet-spend")) is p0
    excluded = failures if reason == "insufficient_balance" else 0
    assert spend["events"]["excluded"] == excluded


def test_avalo_regions_are_separate_series_and_the_budget_policy_names_the_state(tmp_path):
    """An EU outage spends the EU core budget only (a series per region); 6.3's bands name the status."""
    lines = []
    for region in ("eu", "us"):  # eu: 7 failures of 10,000 spend 70% of its 99.9% budget
        for t, i in spread(T0, 1440, 10_000):
            failed = region == "eu" and i % 1666 == 0
            lines.append(
                {
                    "time": oracle.iso(t),
                    "metric": "infra.http.request",
                    "region": region,
                    "tier": "core",
                    "endpoint": "wallet.balance",
                    "success": not failed,
                    "latency_ms": 50,
                }
            )
    doc = backfill(tmp_path, "avalo.yaml", lines, T0 + 1440 * MIN)
    eu, us = slo(doc, "core-api", region="eu"), slo(doc, "core-api", region="us")
    assert [s.get("labels") for s in doc["slos"] if s["name"] == "core-api"] == [
        {"region": "eu"},
        {"region": "us"},
    ]
    assert eu["events"]["bad"] == 7 and us["events"]["bad"] == 0
    assert eu["error_budget"]["remaining_ratio"] == pytest.approx(1 - 7 / (0.001 * 10_000))
    assert eu["status"] == "increased-rigor"  # 30% left: between 25% and 50%
    assert us["status"] == "normal-velocity"
    assert doc["release"] == {
        "decision": "INCREASED-RIGOR",
        "reason": "",
        "rule": "budget ≤ 50%",
        "slos": ["core-api{region=eu}"],
    }


# ---- seed 003: Enterprise --------------------------------------------------------------------------


def gateway(start: int, minutes: float, count: int, service: str, fail: Callable[[int], bool]) -> list[dict]:
    return [
        {
            "@timestamp": oracle.iso(t),
            "service": service,
            "status": 503 if fail(i) else 200,
            "duration_ms": 30,
        }
        for t, i in spread(start, minutes, count)
    ]


@pytest.mark.parametrize(("count", "pages"), [(600, True), (60, False)])
def test_enterprise_critical_burn_needs_the_minimum_sample_size(tmp_path, count, pages):
    """14.4x over 1h and 5m pages, but only with at least 100 events in the long window."""
    healthy = gateway(T0, 55, count * 55 // 60, "reporting", lambda i: False)
    outage = gateway(T0 + 55 * MIN, 5, count // 12, "reporting", every_nth(4))  # 25% for 5 minutes
    doc = backfill(tmp_path, "enterprise.yaml", healthy + outage, T0 + 60 * MIN)
    burns = slo(doc, "tier2-services")["windows"]
    assert burns["1h"]["burn_rate"] >= 14.4 and burns["5m"]["burn_rate"] >= 14.4
    assert ("critical-burn" in active(doc, "tier2-services")) is pages


@pytest.mark.parametrize(
    ("bad", "status", "decision"),
    [
        (0, "healthy", "NORMAL"),
        (12, "budget-low", "NORMAL"),
        (19, "critical", "RESTRICTED"),
        (25, "exhausted", "FEATURE-FREEZE"),
    ],
)
def test_enterprise_budget_status_tiers(tmp_path, bad, status, decision):
    """Tiers: healthy > 50%, budget-low > 25%, warning > 10%, critical > 0, exhausted."""
    lines = gateway(T0, 1440, 20_000, "reporting", lambda i: i < bad)  # 99.9%: 20 bad is the budget
    doc = backfill(tmp_path, "enterprise.yaml", lines, T0 + 1440 * MIN)
    tier2 = slo(doc, "tier2-services")
    assert tier2["error_budget"]["remaining_ratio"] == pytest.approx(1 - bad / 20)
    assert tier2["status"] == status
    assert doc["release"]["decision"] == decision
    assert ("budget-exhausted" in active(doc, "tier2-services")) is (bad >= 20)


# ---- seed 004: PetForce ----------------------------------------------------------------------------


def petforce(
    start: int, minutes: float, count: int, status: Callable[[int], int], ms: int = 120
) -> list[dict]:
    return [
        {
            "timestamp": oracle.iso(t),
            "level": "info",
            "message": "request",
            "service": "petforce-api",
            "route": "/api/households",
            "status": status(i),
            "duration_ms": ms,
        }
        for t, i in spread(start, minutes, count)
    ]


def test_petforce_error_budget_nearly_exhausted_holds_for_five_minutes_then_fires(tmp_path):
    """Below 20% of the budget left: the warning fires once that has held for 5 minutes (`for: 5m`)."""
    failing = {5000, 6000, 7000, 8000, 9000, 9500, 9800, 9900, 9990}
    lines = petforce(T0, 1440, 10_000, lambda i: 500 if i in failing else 200)
    times = [t for t, _ in spread(T0, 1440, 10_000)]
    bad_at = sorted(times[i] for i in failing)

    def remaining(step: int) -> float:  # over the 30-day period: every event so far
        n = sum(t <= step for t in times)
        return 1 - sum(t <= step for t in bad_at) / (0.001 * n)

    steps = range(T0 + MIN, T0 + 1441 * MIN, MIN)  # the backfill's 1-minute evaluation steps
    first = next(t for t in steps if remaining(t) < 0.2)
    assert all(remaining(t) < 0.2 for t in steps if t >= first)  # it holds from then on
    doc = backfill(tmp_path, "petforce.yaml", lines, first + 4 * MIN)
    assert slo(doc, "api-availability")["status"] == "focus-reliability"
    assert "error-budget-nearly-exhausted" not in active(doc, "api-availability")  # held < 5 minutes
    doc = backfill(tmp_path, "petforce.yaml", lines, T0 + 1440 * MIN)
    (warning,) = [
        a for a in slo(doc, "api-availability")["alerts"] if a["name"] == "error-budget-nearly-exhausted"
    ]
    assert warning["intervals"] == [{"start": oracle.iso(first + 5 * MIN), "end": None}]
    assert "error-budget-exhausted" not in active(doc, "api-availability")
    assert doc["release"]["decision"] == "SLOW-DOWN"


@pytest.mark.parametrize(("slow_ms", "fires"), [(1500, True), (900, False)])
def test_petforce_p99_above_one_second_for_five_minutes(tmp_path, slow_ms, fires):
    """Golden signal: p99 over 5 minutes above 1000 ms fires; 900 ms does not."""
    fast = petforce(T0, 5, 980, lambda i: 200, ms=100)
    slow = petforce(T0, 5, 20, lambda i: 200, ms=slow_ms)  # 2% slow: the p99 is a slow one
    doc = backfill(tmp_path, "petforce.yaml", fast + slow, T0 + 5 * MIN)
    assert ("p99-over-1s" in active(doc, "api-latency")) is fires
    p99 = slo(doc, "api-latency")["latency"]["percentiles_ms"]["5m"]["p99"]
    assert abs(p99 - slow_ms) <= slow_ms / 1024 + 0.001
