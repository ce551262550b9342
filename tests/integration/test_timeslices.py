"""Timeslice budgeting: `slotail backfill` equals a computation over the raw events, slice by slice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from tests import oracle
from tests.golden import LABELS, approx, run_backfill
from tests.scenarios import T0, Scenario, generate, lines, write

pytestmark = pytest.mark.integration
HOUR = 3600
CONFIG = """
store: {bucket: 10s}
timestamp: {field: ts}
slos:
  - name: availability
    objective: 99
    period: 1d
    budgeting: timeslices
    slice: 5m
    slice_target: 95
    sli:
      events: {event: req, path: /a}
      bad: {status: {gte: 500}}
      exclude: {status: 429}
    alerts:
      - {name: page, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m}
      - {name: ticket, severity: ticket, burn_rate: 3, long_window: 6h, short_window: 30m, min_events: 10}
  - name: latency
    objective: 95
    period: week
    budgeting: timeslices
    slice: 1m
    slice_target: 90
    empty_slices: skip
    sli:
      events: {event: req}
      exclude: {status: {gte: 500}}
      latency: {field: ms, unit: ms, threshold: 300}
    alerts:
      - {name: slow, severity: page, burn_rate: 10, window: 1h, for: 3m}
"""
ALERTS = {
    "availability": [
        {"name": "page", "factor": 14.4, "long_s": 3600, "short_s": 300},
        {"name": "ticket", "factor": 3.0, "long_s": 21600, "short_s": 1800, "min_events": 10},
    ],
    "latency": [{"name": "slow", "factor": 10.0, "long_s": 3600, "short_s": None, "for_s": 180}],
}
# Every Monday's 00:00 UTC around the logs, from a calendar (ISO weeks begin on Monday).
MONDAYS = [
    int(datetime.combine(date.fromisocalendar(2026, w, 1), datetime.min.time(), UTC).timestamp()) * 10**6
    for w in range(8, 12)
]


def truths(s: Scenario) -> dict[str, oracle.SliceTruth]:
    """Each SLO's events decided with numpy, then judged slice by slice."""
    req = s.kind == 0
    avail = req & (s.path == 0)
    avail_excl = avail & (s.status == 429)
    avail_bad = avail & ~avail_excl & (s.status >= 500)
    lat_excl = req & (s.status >= 500)
    lat_bad = req & ~lat_excl & (s.latency_ms > 300)
    return {
        "availability": oracle.SliceTruth.build_slices(
            "availability",
            99.0,
            86400,
            s.ts_us,
            avail & ~avail_excl & ~avail_bad,
            avail_bad,
            avail_excl,
            slice_s=300,
            target=0.95,
            empty_good=True,
            alerts=ALERTS["availability"],
        ),
        "latency": oracle.SliceTruth.build_slices(
            "latency",
            95.0,
            0,
            s.ts_us,
            req & ~lat_excl & ~lat_bad,
            lat_bad,
            lat_excl,
            slice_s=60,
            target=0.90,
            empty_good=False,
            alerts=ALERTS["latency"],
            edges=MONDAYS,
        ),
    }


def check(doc: dict, scenario: Scenario, at: int) -> None:
    """Every slice count, SLI, budget, burn rate and alert interval equals the oracle's."""
    kept = scenario.ts_us[scenario.ts_us <= at]
    steps = oracle.steps(int(kept.min()), at)
    by_name = {s["name"]: s for s in doc["slos"]}
    for name, truth in truths(scenario).items():
        got = by_name[name]
        assert got["budgeting"] == "timeslices"
        start, length = truth.period(at)
        good, bad, empty = truth.slices(start, at)
        slices = got["slices"]
        assert (slices["good"], slices["bad"], slices["empty"]) == (good, bad, empty), name
        assert slices["budget"] == approx(truth.budget_ratio * length / truth.slice_s), name
        budget = truth.budget(at)
        assert got["error_budget"] == {k: approx(v) for k, v in budget.items()}, name
        assert got["sli"] == approx(truth.sli(at)), name
        # Events count in the period as in any window (a rolling one starts rounded up to its bucket).
        since = oracle.window_start(at, truth.period_s) if truth.edges is None else start
        events = [int(((ts > since) & (ts <= at)).sum()) for ts in (truth.good, truth.bad)]
        assert [got["events"]["good"], got["events"]["bad"]] == events, name
        for alert in truth.alerts:
            for w in filter(None, (alert["long_s"], alert.get("short_s"))):
                assert got["windows"][LABELS[w]] == {k: approx(v) for k, v in truth.window(at, w).items()}
            intervals, active = truth.alert_intervals(steps, alert)
            [found] = [a for a in got["alerts"] if a["name"] == alert["name"]]
            assert found["intervals"] == intervals, (name, alert["name"])
            assert found["active"] is active, (name, alert["name"])
    assert by_name["latency"]["period"] == "week"


@pytest.fixture
def scenario() -> Scenario:
    """100 hours from a Thursday, across a Monday: a 40-minute error incident, an hour of slow responses."""
    incident = (20 * HOUR, 20 * HOUR + 40 * 60)
    return generate(
        int(100 * HOUR),
        rate=0.3,
        seed=17,
        error=lambda t: 0.2 if incident[0] <= t < incident[1] else 0.004,
        slow=lambda t: 2.5 if 30 * HOUR <= t < 31 * HOUR else 1.0,
    )


def test_timeslice_slis_budgets_and_alerts_equal_a_slice_by_slice_computation(tmp_path, scenario):
    """Backfilled to the last event, and `--at` a time inside a slice (the open slice is not counted)."""
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    log = write(tmp_path / "api.log", lines(scenario), "plain")
    assert MONDAYS[0] < scenario.first_us < MONDAYS[1] < scenario.last_us < MONDAYS[2]  # a week ends inside
    check(run_backfill(config, [log]), scenario, scenario.last_us)
    at = MONDAYS[1] + 90 * 10**6 + 123  # 1.5 minutes into the new week: one closed slice
    check(run_backfill(config, [log], "--at", oracle.iso(at)), scenario, at)
    at = MONDAYS[1]  # the week's end: all of it, every slice closed
    doc = run_backfill(config, [log], "--at", oracle.iso(at))
    check(doc, scenario, at)
    availability = next(s for s in doc["slos"] if s["name"] == "availability")
    assert any(a["intervals"] for a in availability["alerts"])  # the incident pages


def test_slices_are_counted_once_closed_and_empty_ones_as_configured():
    """A unit check of the oracle's own rule on a hand-made case, so the comparison above means something."""
    truth = oracle.SliceTruth.build_slices(
        "x",
        99.0,
        600,
        np.array([T0 + 1, T0 + 60 * 10**6, T0 + 61 * 10**6]),
        np.array([True, False, True]),
        np.array([False, True, False]),
        np.zeros(3, bool),
        slice_s=60,
        target=0.5,
        empty_good=True,
    )
    # Slices (T0, T0+60s]: 1 good, 1 bad -> 50% meets 0.5; (T0+60s, T0+120s]: 1 good; at T0+90s it is open.
    assert truth.slices(T0, T0 + 90 * 10**6) == (1, 0, 0)
    assert truth.slices(T0, T0 + 120 * 10**6) == (2, 0, 0)
    assert truth.slices(T0 - 600 * 10**6, T0 + 120 * 10**6) == (12, 0, 10)  # ten empty slices, counted good
