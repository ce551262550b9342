"""Count, percentile, budget and exhaustion alerts against an independent numpy count over the raw events."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.classify import Observations
from slotail.config import load_config_text
from slotail.engine import Engine, ManualClock
from slotail.engine.engine import build_store

US = 1_000_000
T0 = 1_771_200_000 * US  # a multiple of every bucket size
SPAN_S = 3 * 3600
CONFIG = """
defaults: {period: 1d}
slos:
  - name: payments
    objective: 99
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: spike, severity: P0, bad_count: 4, window: 10m}
      - {name: hourly, severity: P1, bad_count: 9, window: 2h, min_events: 20}
      - {name: low-budget, severity: ticket, budget_below: 50}
      - {name: below-95, severity: page, sli_below: 95, window: 5m}
  - name: latency
    objective: 95
    sli:
      events: {event: req}
      latency: {field: ms, unit: ms, threshold: 1000}
    alerts:
      - {name: p95-slow, percentile: 95, above: 1000, window: 15m}
      - {name: p50-slow, percentile: 50, above: 1000, window: 5m}
  - name: lenient
    objective: 50
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: soon, exhausts_within: 1d, window: 30m}
      - {name: sooner, exhausts_within: 4h, window: 10m, min_events: 5}
"""
FAST_MS, SLOW_MS = 100, 3000  # far from the 1000 ms thresholds, so HDR precision cannot flip them


def oracle_window(ts: np.ndarray, end: int, seconds: int) -> np.ndarray:
    """Which events fall in (end - W, end]."""
    return (ts > end - seconds * US) & (ts <= end)


def hdr_rank_value(values: np.ndarray, percentile: float) -> float:
    """The value at HDR's rank for a percentile: the k-th smallest, k = max(int(p·n/100 + 0.5), 1)."""
    k = max(int(percentile * len(values) / 100 + 0.5), 1)
    return float(np.sort(values)[k - 1])


def due(obs: Observations, end: int) -> np.ndarray:
    """The observations in the minute ending at `end`."""
    return (obs.ts_us > end - 60 * US) & (obs.ts_us <= end)


events = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=SPAN_S * US),  # µs after T0
        st.sampled_from([0, 0, 0, 1]),  # payments: good, bad
        st.booleans(),  # latency: slow?
    ),
    max_size=400,
)


@settings(max_examples=40, deadline=None)
@given(events)
def test_each_alert_kind_is_active_exactly_when_its_condition_holds_on_the_raw_events(rows):
    """Evaluated every minute, each alert's state equals the condition computed from the events."""
    config = load_config_text(CONFIG)
    store = build_store(config)
    offsets = np.array([r[0] for r in rows], np.int64)
    ts = T0 + offsets
    outcome = np.array([r[1] for r in rows], np.int8)
    latency_ms = np.where(np.array([r[2] for r in rows], bool), SLOW_MS, FAST_MS)
    n = len(rows)
    everything = Observations(  # payments, latency, and lenient (payments' events again)
        np.r_[np.zeros(n, np.int32), np.ones(n, np.int32), np.full(n, 2, np.int32)],
        np.r_[ts, ts, ts],
        np.r_[outcome, np.zeros(n, np.int8), outcome].astype(np.int8),
        np.r_[np.full(n, -1), latency_ms * 1000, np.full(n, -1)].astype(np.int64),
        0,
    )
    engine = Engine(config, store, ManualClock())
    times = np.arange(T0 + 60 * US, T0 + SPAN_S * US + 1, 60 * US, dtype=np.int64)
    # Fed as time goes by, as the backfill and the sidecar feed it: a store holds its windows up to
    # half an hour behind the newest event it was given, not a whole span given at once.
    steps = []
    for end in times.tolist():
        store.add(everything.select(due(everything, end)))
        steps.append(engine.evaluate_alerts(np.array([end], np.int64)).active)
    active = {key: np.concatenate([step[key] for step in steps]) for key in steps[0]}

    def expect(name: str, sid: int, condition) -> None:
        want = np.array([condition(int(t)) for t in times])
        np.testing.assert_array_equal(active[(sid, name)], want, err_msg=name)

    def bad_in(end: int, seconds: int) -> int:
        return int(np.count_nonzero(oracle_window(ts, end, seconds) & (outcome == 1)))

    def events_in(end: int, seconds: int) -> int:
        return int(np.count_nonzero(oracle_window(ts, end, seconds)))

    def remaining(end: int, budget: float = 0.01) -> float | None:
        total = events_in(end, 86400)
        return 1 - bad_in(end, 86400) / (budget * total) if total else None

    def exhausts(end: int, within_s: int, window_s: int, min_events: int = 0) -> bool:
        """Budget left, a burn above 0, and remaining × period ÷ burn ≤ within (lenient: 50%, 1d)."""
        left, total = remaining(end, 0.5), events_in(end, window_s)
        if left is None or left <= 0 or not total or total < min_events or not bad_in(end, window_s):
            return False
        burn = bad_in(end, window_s) / total / 0.5
        return left * 86400 / burn <= within_s * (1 + 1e-9)

    def percentile(end: int, seconds: int, p: float) -> float | None:
        inside = latency_ms[oracle_window(ts, end, seconds)]
        return hdr_rank_value(inside, p) if len(inside) else None

    expect("spike", 0, lambda t: bad_in(t, 600) > 4)
    expect("hourly", 0, lambda t: bad_in(t, 7200) > 9 and events_in(t, 7200) >= 20)
    expect("low-budget", 0, lambda t: (r := remaining(t)) is not None and r < 0.5)
    # SLI at or below 95% over 5 minutes: an error ratio of 5% or more.
    expect("below-95", 0, lambda t: events_in(t, 300) > 0 and bad_in(t, 300) >= 0.05 * events_in(t, 300))
    expect("p95-slow", 1, lambda t: (v := percentile(t, 900, 95)) is not None and v > 1000)
    expect("p50-slow", 1, lambda t: (v := percentile(t, 300, 50)) is not None and v > 1000)
    expect("soon", 2, lambda t: exhausts(t, 86400, 1800))
    expect("sooner", 2, lambda t: exhausts(t, 4 * 3600, 600, 5))


def test_non_burn_alerts_report_their_kind_and_threshold_in_the_document():
    """The JSON alert object of a count alert says kind and threshold and has no burn rate."""
    from slotail.outputs.document import slo_document

    config = load_config_text(CONFIG)
    clock = ManualClock()
    clock.set(T0)
    engine = Engine(config, build_store(config), clock)
    payments, latency, lenient = (slo_document(s) for s in engine.snapshot().slos)
    spike = next(a for a in payments["alerts"] if a["name"] == "spike")
    assert (spike["kind"], spike["threshold"], spike["burn_rate"]) == ("count", 4.0, None)
    below = next(a for a in payments["alerts"] if a["name"] == "below-95")
    assert below["burn_rate"] == 5.0 and "kind" not in below  # (1 - 0.95) / (1 - 0.99)
    p95 = next(a for a in latency["alerts"] if a["name"] == "p95-slow")
    assert (p95["kind"], p95["threshold"]) == ("percentile", 1000.0)
    budget = next(a for a in payments["alerts"] if a["name"] == "low-budget")
    assert (budget["kind"], budget["threshold"], budget["long_window"]) == ("budget", 0.5, "1d")
    soon = next(a for a in lenient["alerts"] if a["name"] == "soon")
    assert (soon["kind"], soon["exhausts_within_hours"], soon["long_window"]) == ("exhaustion", 24.0, "30m")
