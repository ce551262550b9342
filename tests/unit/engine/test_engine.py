"""Engine arithmetic at one instant: ratios, budget, status, calendar periods, no data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.classify import Observations
from slotail.config import load_config_text
from slotail.engine import Engine, ManualClock
from slotail.engine.engine import build_store
from slotail.timeutil import iso_utc as iso
from slotail.timeutil import parse_instant
from tests import oracle

US = 1_000_000
CONFIG = """
slos:
  - name: rolling
    objective: 99
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts: [{name: fast, burn_rate: 10, window: 1h}]
  - name: monthly
    objective: 99
    period: month
    sli: {good: {event: ok}, bad: {event: failed}}
  - name: weekly
    objective: 99
    period: week
    sli: {good: {event: ok}, bad: {event: failed}}
  - name: quarterly
    objective: 99
    period: quarter
    sli: {good: {event: ok}, bad: {event: failed}}
"""


def engine_with(events: list[tuple[str, int, int]]) -> tuple[Engine, ManualClock]:
    """(time, series, outcome) triples in an engine over CONFIG."""
    config = load_config_text(CONFIG)
    store = build_store(config)
    if events:
        ts, series, outcome = zip(*[(parse_instant(t), s, o) for t, s, o in events], strict=True)
        store.add(
            Observations(
                np.array(series, np.int32),
                np.array(ts, np.int64),
                np.array(outcome, np.int8),
                np.full(len(ts), -1, np.int64),
                0,
            )
        )
    clock = ManualClock()
    return Engine(config, store, clock), clock


def test_no_events_is_null_never_zero():
    """With no data the SLI, ratios, burn rates and budget are null and the status says no_data."""
    engine, clock = engine_with([])
    clock.set(parse_instant("2026-03-10T00:00:00Z"))
    slo = engine.snapshot().slos[0]
    assert slo.sli is None and slo.budget.remaining_ratio is None and slo.status == "no_data"
    assert all(w.error_ratio is None and w.burn_rate is None for w in slo.windows)


def test_a_calendar_month_period_starts_at_the_first_of_the_month_utc():
    """`period: month` counts from 00:00 UTC on the 1st; budget minutes use that month's length."""
    engine, clock = engine_with(
        [
            ("2026-02-28T23:59:59Z", 1, 1),  # February: outside March's period
            ("2026-03-01T00:00:01Z", 1, 0),
            ("2026-03-09T12:00:00Z", 1, 1),
        ]
    )
    clock.set(parse_instant("2026-03-10T00:00:00Z"))
    monthly = engine.snapshot().slos[1]
    assert (monthly.good, monthly.bad) == (1, 1)
    assert monthly.period == "month"
    assert monthly.budget.total_minutes == pytest.approx(0.01 * 31 * 24 * 60)
    assert monthly.budget.consumed_ratio == pytest.approx(0.5 / 0.01)


def test_budget_status_and_exhaustion_follow_design():
    """1 bad in 400 on a 99% SLO: 25% consumed, healthy; exhaustion = remaining × period ÷ burn."""
    events = [("2026-03-09T10:00:00Z", 0, 0)] * 399 + [("2026-03-09T10:30:00Z", 0, 1)]
    engine, clock = engine_with(events)
    clock.set(parse_instant("2026-03-09T11:00:00Z"))
    slo = engine.snapshot().slos[0]
    assert slo.budget.consumed_ratio == pytest.approx(0.25)
    assert slo.status == "healthy"
    hour = next(w for w in slo.windows if w.label == "1h")
    assert hour.good == 0 and hour.bad == 1 and hour.burn_rate == pytest.approx(100.0)
    assert hour.exhaustion_hours == pytest.approx(0.75 * 30 * 24 / 100)


def test_an_event_at_midnight_on_the_first_is_in_the_month_it_closes():
    """2026-02-01T00:00:00Z counts in January: at that instant the period is all of January (31 days
    of budget); a microsecond later February begins, without it."""
    engine, clock = engine_with([("2026-01-15T12:00:00Z", 1, 0), ("2026-02-01T00:00:00Z", 1, 1)])
    clock.set(parse_instant("2026-02-01T00:00:00Z"))
    january = engine.snapshot().slos[1]
    assert (january.good, january.bad) == (1, 1)
    assert january.budget.total_minutes == pytest.approx(0.01 * 31 * 24 * 60)
    clock.set(parse_instant("2026-02-01T00:00:00.000001Z"))
    february = engine.snapshot().slos[1]
    assert (february.good, february.bad) == (0, 0)
    assert february.budget.total_minutes == pytest.approx(0.01 * 28 * 24 * 60)


def _midnights(days: list[date]) -> list[int]:
    """Each day's 00:00 UTC in µs (computed here with datetime, apart from slotail's calendar code)."""
    return [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * US for d in days]


# Every period's first instant from late 2025 to 2027, written out from a calendar: ISO weeks begin on
# Monday, quarters on January, April, July and October 1st.
EDGES = {
    "weekly": _midnights([date.fromisocalendar(2026, w, 1) for w in range(1, 53)]),
    "monthly": _midnights([date(2025 + m // 12, m % 12 + 1, 1) for m in range(9, 26)]),
    "quarterly": _midnights([date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)]),
}
SERIES = {"monthly": 1, "weekly": 2, "quarterly": 3}


def _edge_instants(unit: str) -> st.SearchStrategy[int]:
    """A period's first instant, a microsecond either side of it, or any instant among them."""
    edges = EDGES[unit]
    near = st.sampled_from(edges).flatmap(lambda e: st.sampled_from([e - 1, e, e + 1]))
    return st.one_of(near, st.integers(edges[0] + 1, edges[-1]))


@settings(max_examples=40, deadline=None)
@given(st.data())
@pytest.mark.parametrize("unit", sorted(EDGES))
def test_every_instant_is_in_exactly_one_calendar_period(unit, data):
    """Weeks, months and quarters hold their end: evaluated at any instant T (a period's edge, a µs
    either side, or any other), the period counts exactly the events in (the last edge before T, T],
    with events stamped at the edges themselves, and its budget is that period's length."""
    edges = EDGES[unit]
    at = data.draw(st.integers(edges[1] + 1, edges[-1]) | st.sampled_from(edges[1:]), label="at")
    stamps = data.draw(st.lists(_edge_instants(unit), min_size=1, max_size=30), label="stamps")
    start = max(e for e in edges if e < at)
    end = min(e for e in edges if e >= at)
    # The store holds the longest period (92 days) behind the evaluation: feed what it holds.
    engine, clock = engine_with([(iso(t), SERIES[unit], 1) for t in stamps if at - 93 * 86400 * US < t <= at])
    clock.set(at)
    slo = engine.snapshot().slos[SERIES[unit]]
    assert slo.bad == sum(start < t <= at for t in stamps)
    assert slo.period == unit.removesuffix("ly")
    assert slo.budget.total_minutes == pytest.approx(0.01 * (end - start) / US / 60)


def test_a_group_registered_between_ticks_burns_against_its_own_budget():
    """A sidecar's group that appears after ticks began, into room the store already had, divides its
    error ratio by its own budget: 20% bad at 99% is a burn rate of 20, and its alert fires."""
    config = load_config_text(
        """
slos:
  - name: grouped
    objective: 99
    group_by: [region]
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts: [{name: fast, burn_rate: 10, window: 1h}]
"""
    )
    store = build_store(config)
    clock = ManualClock()
    engine = Engine(config, store, clock)
    at = parse_instant("2026-03-10T00:00:00Z")
    for i, region in enumerate("abcdefgh"):  # one group a tick: the store grows by doubling meanwhile
        sid = store.registry.series_id(0, (region,))
        ts = np.full(10, at + i * 60 * US - 30 * US, np.int64)
        outcome = np.array([1, 1] + [0] * 8, np.int8)  # 20% bad
        store.add(Observations(np.full(10, sid, np.int32), ts, outcome, np.full(10, -1, np.int64), 0))
        clock.set(at + i * 60 * US)
        engine.tick()
        assert engine.trackers[(sid, "fast")].active, region


SLICED = """
slos:
  - name: weekly-slices
    objective: 90
    period: week
    budgeting: timeslices
    slice: 1h
    slice_target: 50
    sli: {good: {event: ok}, bad: {event: failed}}
  - name: daily-slices
    objective: 90
    period: 1d
    budgeting: timeslices
    slice: 1h
    slice_target: 50
    empty_slices: skip
    sli: {good: {event: ok}, bad: {event: failed}}
"""


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_timeslices_count_each_closed_slice_once_at_slice_and_week_edges(data):
    """Slices of 1 h in a calendar week and a rolling day, events stamped on slice and week edges and a
    µs either side, evaluated at any instant: the slices equal a count of the raw events slice by slice
    (tests/oracle.py), the open slice is never counted, and empty ones count as good or are skipped."""
    edges = EDGES["weekly"][:4]
    hours = [e + h * 3600 * US for e in edges[:3] for h in (-1, 0, 1, 5)]
    instant = st.sampled_from(hours).flatmap(lambda e: st.sampled_from([e - 1, e, e + 1])) | st.integers(
        edges[0] + 1, edges[-1]
    )
    at = data.draw(instant.filter(lambda t: t > edges[1]), label="at")
    events = data.draw(st.lists(st.tuples(instant, st.booleans()), min_size=1, max_size=40), label="events")
    config = load_config_text(SLICED)
    store = build_store(config)
    fed = [(t, bad) for t, bad in events if at - 8 * 86400 * US < t <= at]
    for sid in (0, 1):
        for t, bad in fed:
            store.add(
                Observations(
                    np.array([sid], np.int32),
                    np.array([t], np.int64),
                    np.array([int(bad)], np.int8),
                    np.array([-1], np.int64),
                    0,
                )
            )
    clock = ManualClock()
    clock.set(at)
    weekly, daily = Engine(config, store, clock).snapshot().slos
    ts = np.array([t for t, _ in fed], np.int64)
    bad = np.array([b for _, b in fed], bool)
    none = np.zeros(len(ts), bool)
    for got, period_s, empty_good, week in ((weekly, 0, True, edges), (daily, 86400, False, None)):
        truth = oracle.SliceTruth.build_slices(
            got.name,
            90.0,
            period_s,
            ts,
            ~bad,
            bad,
            none,
            slice_s=3600,
            target=0.5,
            empty_good=empty_good,
            edges=week,
        )
        start, length = truth.period(at)
        assert got.slices is not None
        assert (got.slices.good, got.slices.bad, got.slices.empty) == truth.slices(start, at)
        assert got.sli == (None if truth.sli(at) is None else pytest.approx(truth.sli(at)))
        assert got.budget.remaining_ratio == (
            None
            if truth.budget(at)["remaining_ratio"] is None
            else pytest.approx(truth.budget(at)["remaining_ratio"])
        )
        assert got.slices.budget == pytest.approx(0.1 * length / 3600)
