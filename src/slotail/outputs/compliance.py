"""Compliance history: per SLO series, each calendar month and ISO week the backfill covered.

`ComplianceRecorder.add` is a `Backfill.on_evaluation` hook. At every evaluation it
reads, from the store, what arrived since the one before (split at midnight UTC),
and adds it to the day it ends in: good and bad events, and a timeslice series'
good, bad and empty slices (a slice counts in the day it closes in). A day, like
every period, holds its end: (00:00, 24:00]. Memory grows with the days covered,
not with the events. `rows` sums the days into weeks or months, which are made of
whole days, and finds each one's worst day and the alerts that opened in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from slotail.engine.engine import Engine, Evaluation, Plan
from slotail.engine.snapshot import SLOStatus
from slotail.timeutil import DAYS, US, calendar_bounds_us, calendar_period_us

Int64s = npt.NDArray[np.int64]
DAY_US = DAYS["day"] * 86400 * US
UNITS = ("month", "week")  # the views the reports show


@dataclass(frozen=True)
class Row:
    """One calendar period of one SLO series, as far as the backfill covered it."""

    period: str  # `2026-02`, or `2026-W07`
    start_us: int  # the period (start, end]
    end_us: int
    covered: bool  # the backfill covered all of it
    good: int  # events, or slices for a timeslice SLO (with empty ones counted good where they are)
    bad: int
    sli: float | None  # None: no data
    spent: float | None  # the share of the period's error budget its bad events (or slices) spent
    worst_day_us: int | None  # the start of the day with the lowest SLI
    worst_sli: float | None
    alerts: int  # alert intervals that opened in it

    @property
    def met(self) -> bool | None:
        return None if self.spent is None else self.spent <= 1


def _label(unit: str, start_us: int) -> str:
    when = datetime.fromtimestamp(start_us // US, UTC)
    if unit == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    return when.strftime("%Y-%m")


class ComplianceRecorder:
    """Good and bad events (and slices) per series and UTC day, as a backfill evaluates."""

    def __init__(self, engine: Engine, step_s: int) -> None:
        self.engine = engine
        self.step_us = step_s * US
        self.days: dict[int, Int64s] = {}  # day start -> (2, series, 3): events, then slices
        self._last: int | None = None  # the last evaluation: what came up to it is counted
        self.first_us: int | None = None  # the start of the first span counted
        self.last_us: int | None = None

    def add(self, evaluation: Evaluation) -> None:
        """Count what arrived since the last evaluation, up to each evaluated time, by day."""
        times = evaluation.times_us
        if not len(times):
            return
        # The first step follows the first event by less than a step.
        first = self._last if self._last is not None else int(times[0]) - self.step_us
        last = int(times[-1])
        midnights = np.arange(-(-first // DAY_US) * DAY_US, last, DAY_US, dtype=np.int64)
        ends = np.union1d(times, midnights[midnights > first])
        starts = np.r_[first, ends[:-1]].astype(np.int64)
        events = self.engine.store.window_counts(0, starts, ends)
        slices = events.copy()
        self.engine.as_slices({0: starts}, ends, {0: slices})
        days, _ = calendar_bounds_us("day", ends)
        for day in np.unique(days).tolist():
            inside = days == day
            both = np.stack((events[inside].sum(axis=0), slices[inside].sum(axis=0)))
            self._add_day(day, both)
        self.first_us = first if self.first_us is None else self.first_us
        self._last = self.last_us = last

    def _add_day(self, day: int, counts: Int64s) -> None:
        held = self.days.get(day)
        if held is None:
            self.days[day] = counts
            return
        width = max(held.shape[1], counts.shape[1])  # the store may have grown: new group series

        def widened(a: Int64s) -> Int64s:
            return np.pad(a, ((0, 0), (0, width - a.shape[1]), (0, 0)))

        self.days[day] = widened(held) + widened(counts)

    def rows(self, plan: Plan, status: SLOStatus, unit: str) -> list[Row]:
        """One row per `unit` (month or week) the backfill covered, oldest first."""
        if self.first_us is None or self.last_us is None:
            return []
        sliced = plan.slicing is not None
        starts = sorted(self.days)
        opened = [i.start_us for a in status.alerts for i in a.intervals]
        by_period: dict[tuple[int, int], list[int]] = {}
        for day in starts:
            by_period.setdefault(calendar_period_us(unit, day + DAY_US), []).append(day)
        return [
            self._row(plan, unit, bounds, days, sliced, opened) for bounds, days in sorted(by_period.items())
        ]

    def _counts(self, plan: Plan, day: int, sliced: bool) -> tuple[int, int, bool]:
        """(good, bad, whether any event counted) of one series on one day."""
        held = self.days[day]
        if plan.sid >= held.shape[1]:
            return 0, 0, False
        good, bad, empty = (int(v) for v in held[int(sliced), plan.sid])
        if not sliced:
            return good, bad, good + bad > 0
        assert plan.slicing is not None
        return good, bad, good + bad - empty * plan.slicing.empty_good > 0

    def _row(
        self,
        plan: Plan,
        unit: str,
        bounds: tuple[int, int],
        days: Sequence[int],
        sliced: bool,
        opened: list[int],
    ) -> Row:
        start, end = bounds
        per_day = [(day, *self._counts(plan, day, sliced)) for day in days]
        good = sum(g for _, g, _, _ in per_day)
        bad = sum(b for _, _, b, _ in per_day)
        data = any(d for *_, d in per_day)
        daily = [(g / (g + b), day) for day, g, b, d in per_day if d]
        worst = min(daily, key=lambda v: (v[0], v[1])) if daily else None
        return Row(
            period=_label(unit, start),
            start_us=start,
            end_us=end,
            covered=self.first_us is not None and self.first_us <= start and end <= (self.last_us or 0),
            good=good,
            bad=bad,
            sli=good / (good + bad) if data else None,
            spent=bad / (plan.budget_ratio * (good + bad)) if data else None,
            worst_day_us=worst[1] if worst else None,
            worst_sli=worst[0] if worst else None,
            alerts=sum(start < t <= end for t in opened),
        )


History = dict[str, dict[str, list[Row]]]  # series title -> unit -> rows


def history(recorder: ComplianceRecorder, snapshot_slos: Sequence[SLOStatus]) -> History:
    """Every shown series' rows by month and by week (the engine's plans and the snapshot's series
    are in the same order)."""
    plans = recorder.engine.plans
    return {
        plan.title: {unit: recorder.rows(plan, status, unit) for unit in UNITS}
        for plan, status in zip(plans, snapshot_slos, strict=True)
    }


def day_label(day_us: int) -> str:
    """`2026-02-14`."""
    return datetime.fromtimestamp(day_us // US, UTC).strftime("%Y-%m-%d")


HEADINGS = {"month": "month", "week": "ISO week"}  # each view's name, as its column says it
NOTE = (
    "Each row covers what the logs reached of its period (partial: they begin or end inside it). "
    "Budget spent: its bad events over the period's error budget at the SLO's objective (over 100%: "
    "missed); a timeslice SLO counts slices. Worst day: the UTC day with the lowest SLI. Alerts fired: "
    "alert intervals that opened in the period."
)
