"""Alert state machines: `for`, intervals, and evaluation in any chunking."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.alerts.kind import reaches
from slotail.config.model import AlertRule
from slotail.engine.alerts import AlertTracker
from slotail.engine.snapshot import Interval

US = 1_000_000
STEP = 60 * US


def rule(for_s: int = 0) -> AlertRule:
    return AlertRule("a", "page", 2.0, 3600, None, for_s, 0, ())


def reference(times: list[int], conditions: list[bool], for_s: int) -> list[tuple[int, int | None]]:
    """A plain loop over DESIGN.md's rule: active once the condition has held for `for`."""
    intervals: list[list[int | None]] = []
    active, since = False, None
    for t, c in zip(times, conditions, strict=True):
        since = (t if since is None else since) if c else None
        now = c and t - since >= for_s * US
        if now and not active:
            intervals.append([t, None])
        if active and not now:
            intervals[-1][1] = t
        active = now
    return [(s, e) for s, e in intervals]


@given(st.lists(st.booleans(), max_size=120), st.sampled_from([0, 60, 180]), st.data())
@settings(max_examples=200, deadline=None)
def test_intervals_follow_the_rule_however_evaluations_are_chunked(conditions, for_s, data):
    """Feeding steps in chunks gives the same intervals as a plain loop over all steps."""
    times = [i * STEP for i in range(len(conditions))]
    tracker = AlertTracker(rule(for_s))
    states: list[bool] = []
    i = 0
    while i < len(times):
        j = i + data.draw(st.integers(min_value=1, max_value=10))
        states += tracker.observe(np.array(times[i:j], np.int64), np.array(conditions[i:j], bool)).tolist()
        i = j
    expected = reference(times, conditions, for_s)
    assert states == [any(s <= t and (e is None or t < e) for s, e in expected) for t in times]
    assert tracker.intervals == tuple(Interval(s, e) for s, e in expected)
    assert tracker.active == bool(expected and expected[-1][1] is None)


def test_for_delays_activation_until_the_condition_has_held_that_long():
    """With for: 2m, an alert true from 0 becomes active at 2m, and a 1-minute blip never fires."""
    tracker = AlertTracker(rule(120))
    cond = [True, False, True, True, True, True, False]
    tracker.observe(np.arange(len(cond), dtype=np.int64) * STEP, np.array(cond))
    assert tracker.intervals == (Interval(4 * STEP, 6 * STEP),)


def test_no_data_never_reaches_a_factor_and_the_factor_is_inclusive():
    """NaN (no events) is never ≥ a factor; 0.072 / 0.005 counts as reaching 14.4."""
    burn = np.array([np.nan, 0.072 / 0.005, 14.3, 14.4])
    assert reaches(burn, 14.4).tolist() == [False, True, False, True]
