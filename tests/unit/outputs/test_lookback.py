"""The recent past from the store: per-slot counts of the last day and the week-over-week trend."""

from __future__ import annotations

import numpy as np
import pytest

from slotail.classify import Observations
from slotail.config import load_config_text
from slotail.engine import Engine, ManualClock
from slotail.engine.engine import build_store
from slotail.outcomes import BAD, GOOD
from slotail.outputs.lookback import Trend, lookback
from slotail.timeutil import US, parse_instant

CONFIG = """
slos:
  - name: web
    objective: 99
    sli: {good: {event: ok}, bad: {event: failed}}
alerts: google-30d
"""
NOW = parse_instant("2026-02-19T15:07:30Z")


def engine_with(ts_us: np.ndarray, outcome: np.ndarray) -> Engine:
    config = load_config_text(CONFIG)
    store = build_store(config)
    store.add(Observations(np.zeros(len(ts_us), np.int32), ts_us, outcome, np.full(len(ts_us), -1), 0))
    clock = ManualClock()
    clock.set(NOW)
    return Engine(config, store, clock)


def events(seed: int = 1, days: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.sort(NOW - rng.integers(0, days * 86400 * US, 20_000)).astype(np.int64)
    outcome = np.where(rng.random(len(ts)) < 0.02, BAD, GOOD).astype(np.int8)
    return ts, outcome


def test_day_slots_hold_exactly_the_events_between_their_edges():
    """Every slot counts the events in (previous end, its end]; together they cover the last 24 h."""
    ts, outcome = events()
    day = lookback(engine_with(ts, outcome), NOW)["web"].day
    assert day.slot_s == 1200  # 15 minutes rounded up to the 10-minute buckets the 1d window reads
    assert len(day.ends_us) == 72 and day.ends_us[-1] == NOW
    starts = [day.ends_us[0] - day.slot_s * US, *day.ends_us[:-1]]
    for start, end, good, bad in zip(starts, day.ends_us, day.good, day.bad, strict=True):
        inside = (ts > start) & (ts <= end)
        assert (good, bad) == (np.sum(inside & (outcome == GOOD)), np.sum(inside & (outcome == BAD)))
    assert NOW - starts[0] <= 86400 * US


def test_day_burn_is_the_error_ratio_of_the_slots_over_the_budget():
    ts, outcome = events()
    recent = lookback(engine_with(ts, outcome), NOW)["web"]
    bad, total = sum(recent.day.bad), sum(recent.day.good) + sum(recent.day.bad)
    assert recent.day_burn() == pytest.approx(bad / total / 0.01)


def test_trend_compares_the_last_week_with_the_week_before():
    """Failures only in the week before: the burn dropped, the arrow points up (better)."""
    ts, _ = events()
    age = NOW - ts
    outcome = np.where((age > 8 * 86400 * US) & (age < 13 * 86400 * US) & (ts % 10 == 0), BAD, GOOD)
    trend = lookback(engine_with(ts, outcome.astype(np.int8)), NOW)["web"].trend
    assert trend.span_s == 7 * 86400
    assert trend.current == 0.0 and trend.previous is not None and trend.previous > 1
    assert trend.arrow() == "↑"


@pytest.mark.parametrize(
    ("current", "previous", "arrow"),
    [(0.5, 1.5, "↑"), (1.5, 0.5, "↓"), (0.55, 0.5, "→"), (None, 0.5, "—"), (0.5, None, "—")],
)
def test_trend_arrow(current, previous, arrow):
    """↑ burning slower than the week before, ↓ faster, → within 0.1x, — when a week has no events."""
    assert Trend(604800, current, previous).arrow() == arrow


def test_no_events_no_ratio():
    recent = lookback(engine_with(np.zeros(0, np.int64), np.zeros(0, np.int8)), NOW)["web"]
    assert recent.day_burn() is None and set(recent.day.error_ratios()) == {None}
    assert recent.trend.arrow() == "—"
