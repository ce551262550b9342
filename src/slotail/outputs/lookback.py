"""The recent past as the store holds it at one instant: the last 24 h in slots, and the week's trend.

Every span read here ends at "now", so it reads like any window: its start is
rounded up to the bucket of the tier it is read at, and slots are made of whole
buckets of that tier (a slot is 15 minutes, or the tier's bucket if coarser).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from slotail.engine.engine import Engine, Int64s, Plan, Window
from slotail.outcomes import BAD, GOOD
from slotail.timeutil import US

DAY_S = 86400
SLOT_S = 900
WEEK_S = 7 * 86400
STEADY_BURN = 0.1  # a change in burn rate smaller than this is "steady"


def _ratio(good: int, bad: int) -> float | None:
    return bad / (good + bad) if good + bad else None


@dataclass(frozen=True)
class Slots:
    """Good and bad events in consecutive slots, oldest first; the last one ends at now (and may be short)."""

    ends_us: tuple[int, ...]
    good: tuple[int, ...]
    bad: tuple[int, ...]
    slot_s: int

    def error_ratios(self) -> list[float | None]:
        return [_ratio(g, b) for g, b in zip(self.good, self.bad, strict=True)]

    def error_ratio(self) -> float | None:
        """Over all the slots together."""
        return _ratio(sum(self.good), sum(self.bad))


@dataclass(frozen=True)
class Trend:
    """Burn rate over the last `span_s` against the `span_s` before it (None: no events)."""

    span_s: int
    current: float | None
    previous: float | None

    def arrow(self, steady: float = STEADY_BURN) -> str:
        """↑ better (burning slower), ↓ worse, → steady, — when either span has no events."""
        if self.current is None or self.previous is None:
            return "—"
        if abs(self.current - self.previous) < steady:
            return "→"
        return "↑" if self.current < self.previous else "↓"


@dataclass(frozen=True)
class SLOLookback:
    """One SLO's recent past."""

    name: str
    budget_ratio: float
    day: Slots
    trend: Trend

    def day_burn(self) -> float | None:
        """Burn rate over the slots of the last day."""
        ratio = self.day.error_ratio()
        return None if ratio is None else ratio / self.budget_ratio


def covering(plan: Plan, span_s: int, now_us: int) -> Window:
    """The shortest window of the SLO at least `span_s` long (its tier holds the span), else the longest."""
    long_enough = [w for w in plan.windows if w.length_s(now_us) >= span_s]
    if long_enough:
        return min(long_enough, key=lambda w: w.length_s(now_us))
    return max(plan.windows, key=lambda w: w.length_s(now_us))


class Spans:
    """`Engine.spans`, each distinct read made once: it reads every series, so a grouped SLO's share it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read: dict[tuple[Window, bytes, bytes], Int64s] = {}

    def __call__(self, window: Window, starts_us: Int64s, ends_us: Int64s) -> Int64s:
        key = (window, starts_us.tobytes(), ends_us.tobytes())
        if key not in self._read:
            self._read[key] = self.engine.spans(window, starts_us, ends_us)
        return self._read[key]


def day_slots(
    engine: Engine,
    plan: Plan,
    now_us: int,
    span_s: int = DAY_S,
    slot_s: int = SLOT_S,
    spans: Spans | None = None,
) -> Slots:
    """The last `span_s` (at most the SLO's longest window) in slots of about `slot_s`."""
    window = covering(plan, span_s, now_us)
    bucket = engine.resolution_s(window)
    slot = -(-slot_s // bucket) * bucket
    count = max(1, min(span_s, window.length_s(now_us)) // slot)
    newest_edge = (now_us - 1) // (slot * US) * slot * US
    edges = newest_edge - np.arange(count, dtype=np.int64) * slot * US  # newest first
    since = (spans or Spans(engine))(window, edges, np.full(count, now_us, np.int64))[:, plan.sid]
    per_slot = np.diff(since, axis=0, prepend=np.zeros((1, 3), np.int64))[::-1]
    ends = [now_us, *edges[:-1].tolist()][::-1]
    return Slots(tuple(ends), _ints(per_slot[:, GOOD]), _ints(per_slot[:, BAD]), slot)


def _ints(values: Int64s) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def trend(engine: Engine, plan: Plan, now_us: int, span_s: int = WEEK_S, spans: Spans | None = None) -> Trend:
    """The last week against the week before (half the period each, if the period is shorter)."""
    span = min(span_s, plan.period.length_s(now_us) // 2)
    starts = np.array([now_us - 2 * span * US, now_us - span * US], np.int64)
    both, last = (spans or Spans(engine))(plan.period, starts, np.full(2, now_us, np.int64))[:, plan.sid]
    before = both - last

    def burn(counts: Int64s) -> float | None:
        ratio = _ratio(int(counts[GOOD]), int(counts[BAD]))
        return None if ratio is None else ratio / plan.budget_ratio

    return Trend(span, burn(last), burn(before))


def lookback(engine: Engine, now_us: int) -> Mapping[str, SLOLookback]:
    """Every SLO series' last day and weekly trend, by title."""
    spans = Spans(engine)
    return {
        p.title: SLOLookback(
            p.title,
            p.budget_ratio,
            day_slots(engine, p, now_us, spans=spans),
            trend(engine, p, now_us, spans=spans),
        )
        for p in engine.plans
    }
