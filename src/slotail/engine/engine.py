"""The SLO engine: reads windows from the store at times it is given, never at a time of its own."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from functools import cache
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from slotail.alerts.kind import TOLERANCE
from slotail.alerts.registry import KINDS
from slotail.classify.series import SeriesRegistry
from slotail.config.model import SLO, AlertRule, Config, Period, Slicing, SLIKind
from slotail.engine.alerts import AlertTracker
from slotail.engine.budget import DEFAULT_POLICY, StatusPolicy
from slotail.engine.clock import Clock
from slotail.engine.release import DEFAULT_RULES, SLOFacts, decide
from slotail.engine.snapshot import (
    OCCURRENCES,
    TIMESLICES,
    AlertState,
    Budget,
    Release,
    SliceStats,
    SLOStatus,
    Snapshot,
    WindowStats,
    series_title,
)
from slotail.outcomes import BAD, EXCLUDED, GOOD
from slotail.store import Layout, Store
from slotail.timeutil import CALENDAR_SPAN_S, US, calendar_bounds_us, calendar_seconds, format_duration

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
T = TypeVar("T")
Steps = Generator[None, None, T]  # a computation that pauses (yields) between its steps


def finish(steps: Steps[T]) -> T:
    """Run every step of a stepped computation; its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result


class Window(msgspec.Struct, frozen=True):
    """A window an SLO reads: rolling `seconds`, or the `calendar` period (UTC) when `seconds` is None.

    Like every window, a calendar period holds its end and not its start: a month is (00:00 UTC on
    its 1st, 00:00 UTC on the next 1st], a week (Monday 00:00 UTC, the next Monday], a quarter
    (January, April, July or October 1st, the next one], so each instant is in one period, and at
    midnight on the 1st the period read is the one that has just closed (that of the instant before)."""

    label: str
    seconds: int | None
    calendar: str | None = None

    def starts(self, times_us: Int64s) -> Int64s:
        if self.seconds is None:
            return calendar_bounds_us(self.unit, times_us)[0]
        return times_us - self.seconds * US

    def length_s(self, at_us: int) -> int:
        return self.seconds if self.seconds is not None else calendar_seconds(self.unit, at_us)

    def lengths_s(self, times_us: Int64s) -> Int64s:
        """`length_s` at each time."""
        if self.seconds is not None:
            return np.full(len(times_us), self.seconds, np.int64)
        starts, ends = calendar_bounds_us(self.unit, times_us)
        return (ends - starts) // US

    @property
    def unit(self) -> str:
        assert self.calendar is not None
        return self.calendar

    @property
    def longest_s(self) -> int:
        """The most it can hold (a calendar period's longest: 7, 31 or 92 days)."""
        return self.seconds if self.seconds is not None else CALENDAR_SPAN_S[self.unit][1]


class Evaluation(msgspec.Struct, frozen=True):
    """What one round of alert evaluation read and decided, per time."""

    times_us: Int64s
    counts: dict[Window, Int64s]  # window -> (times, series, 3)
    active: dict[tuple[int, str], Bools]  # (series, alert) -> active at each time


class Plan(msgspec.Struct, frozen=True):
    """One SLO as the engine evaluates it."""

    sid: int
    slo: SLO
    budget_ratio: float  # 1 - objective
    period: Window
    windows: tuple[Window, ...]  # alert windows and the period, shortest first
    rules: tuple[AlertRule, ...]
    policy: StatusPolicy = DEFAULT_POLICY
    labels: tuple[tuple[str, str], ...] = ()  # (group field, value) of a grouped SLO's series
    slicing: Slicing | None = None  # a timeslice SLO's slices (None: it counts events)

    @property
    def title(self) -> str:
        return series_title(self.slo.name, self.labels)

    @property
    def alert_windows(self) -> tuple[Window, ...]:
        """The windows burn-rate, count and percentile rules read (budget rules read the period,
        which `plans` puts last in `windows`)."""
        return self.windows[:-1]


def status_policy(config: Config, slo: SLO) -> StatusPolicy:
    """The SLO's budget status levels as a policy (DESIGN.md's default when none is configured)."""
    levels = config.status_levels(slo)
    if levels is None:
        return DEFAULT_POLICY
    named = tuple((level.status, level.above / 100) for level in levels[:-1] if level.above is not None)
    return StatusPolicy(named, levels[-1].status)


def release_windows(config: Config) -> set[int]:
    """Windows (seconds) that the release policy's conditions read."""
    rules = config.release_policy or []
    return {r.when.window for r in rules if r.when is not None and r.when.window is not None}


@cache
def _window(seconds: int) -> Window:
    return Window(format_duration(seconds), seconds)


def _period_window(period: Period) -> Window:
    return Window(period.label, period.seconds, period.calendar)


def build_plans(config: Config) -> list[Plan]:
    """Every SLO's windows and alert rules."""
    plans = []
    for sid, slo in enumerate(config.slos):
        rules = tuple(config.alert_rules(slo))
        period = _period_window(config.period(slo))
        seconds = {r.long_s for r in rules if r.long_s} | {r.short_s for r in rules if r.short_s}
        windows = [_window(s) for s in sorted(seconds) if s != period.seconds]
        budget_ratio = (100.0 - slo.objective) / 100.0
        policy = status_policy(config, slo)
        window_set = (*windows, period)
        plans.append(Plan(sid, slo, budget_ratio, period, window_set, rules, policy, slicing=slo.slicing))
    return plans


def build_store(config: Config, plans: list[Plan] | None = None) -> Store:
    """A store laid out for every window the config's SLOs read (and, for timeslice SLOs, their slices
    over the longest of them and the release policy's), its series numbered by a registry."""
    plans = plans if plans is not None else build_plans(config)
    release = release_windows(config)
    seconds = {w.seconds for p in plans for w in p.windows if w.seconds is not None} | release
    calendars = {w.calendar for p in plans for w in p.windows if w.calendar is not None}
    slices: dict[int, int] = {}
    for plan in plans:
        if plan.slicing is not None:
            longest = max(w.longest_s for w in plan.windows) if plan.windows else 0
            size = plan.slicing.seconds
            slices[size] = max(slices.get(size, 0), longest, *release)
    layout = Layout.for_windows(config.store.bucket, seconds, calendars, slices)
    latency = [p.sid for p in plans if p.slo.sli.kind is SLIKind.LATENCY]
    return Store(layout, len(plans), latency, SeriesRegistry(config.slos))


def burn_rates(good: Int64s, bad: Int64s, budget_ratio: float | Floats) -> tuple[Floats, Floats]:
    """Error ratios and burn rates; NaN where a window has no events."""
    total = good + bad
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, bad / np.maximum(total, 1), np.nan)
    return ratio, ratio / budget_ratio


def _none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


class Reading:
    """What one round of alert evaluation reads (`alerts.kind.Reading`): each window once for every
    series, burn rates once per window, and conditions kinds share."""

    def __init__(self, engine: Engine, times_us: Int64s, counts: dict[Window, Int64s]) -> None:
        self.engine = engine
        self.times_us = times_us
        self._counts = counts  # the windows read up front; any other is added as read
        self._burns: dict[Window, tuple[Floats, Int64s]] = {}
        self._shared: dict[tuple[Any, ...], Bools] = {}

    def _read(self, window: Window) -> Int64s:
        if window not in self._counts:
            self._counts[window] = self.engine.counts(window, self.times_us)
        return self._counts[window]

    def counts(self, seconds: int) -> Int64s:
        return self._read(_window(seconds))

    def _burn(self, window: Window) -> tuple[Floats, Int64s]:
        if window not in self._burns:
            data = self._read(window)
            good, bad = data[:, :, GOOD], data[:, :, BAD]
            self._burns[window] = (burn_rates(good, bad, self.engine.budget_ratios)[1], good + bad)
        return self._burns[window]

    def burn(self, seconds: int) -> tuple[Floats, Int64s]:
        return self._burn(_window(seconds))

    def period_burn(self, plan: Plan) -> tuple[Floats, Int64s]:
        return self._burn(plan.period)

    def period_lengths(self, plan: Plan) -> Int64s:
        return plan.period.lengths_s(self.times_us)

    def percentile(self, plan: Plan, seconds: int, percentile: float) -> Floats:
        return self.engine.percentile_series(plan, seconds, self.times_us, percentile)

    def shared(self, key: tuple[Any, ...], compute: Callable[[], Bools]) -> Bools:
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]


class Engine:
    """Evaluates every SLO over the store; alert state advances only through `evaluate_alerts`."""

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.registry = store.registry if store.registry is not None else SeriesRegistry(config.slos)
        self.per_slo = build_plans(config)
        self.series: list[Plan] = []  # every series' plan, by series id
        self.plans: list[Plan] = []  # the series outputs show, in order (SLO, then group labels)
        self.release_rules = tuple(config.release_policy or DEFAULT_RULES)
        self.trackers: dict[tuple[int, str], AlertTracker] = {}
        self.budget_ratios = np.ones(0)  # by series (series without a plan divide by 1)
        # Timeslice series: by slice length, and each series' slice target and empty-slice rule.
        self.sliced: dict[int, Int64s] = {}
        self.slice_targets = np.ones(0)
        self.empty_good = np.ones(0, bool)
        # The windows a timeslice SLO reads, and the release policy's (which read every SLO).
        self.slice_windows = {w for p in self.per_slo if p.slicing is not None for w in p.windows}
        self.slice_windows |= {_window(s) for s in release_windows(config)} if self.slice_windows else set()
        self.sync()

    def sync(self) -> None:
        """Plans and alert trackers for series registered since the last call; the shown plans again."""
        registry = self.registry
        known = len(self.series)
        for sid in range(known, len(registry)):
            plan = msgspec.structs.replace(
                self.per_slo[registry.slo_of[sid]], sid=sid, labels=registry.label_pairs(sid)
            )
            self.series.append(plan)
            self.trackers.update({(sid, r.name): AlertTracker(r) for r in plan.rules})
        # New series (maybe in room the store already had) or a grown store: every series' numbers again.
        if len(self.series) != known or len(self.budget_ratios) != self.store.n_series:
            ratios = np.ones(self.store.n_series)
            ratios[: len(self.series)] = [p.budget_ratio for p in self.series]
            self.budget_ratios = ratios
            self._slicing()
        self.plans = [self.series[sid] for slo in range(len(self.per_slo)) for sid in registry.visible(slo)]

    def _slicing(self) -> None:
        """Every series' slice target and empty-slice rule, and the timeslice series by slice length."""
        n = self.store.n_series
        self.slice_targets, self.empty_good = np.zeros(n), np.zeros(n, bool)
        sliced: dict[int, list[int]] = {}
        for plan in self.series:
            if plan.slicing is not None:
                self.slice_targets[plan.sid] = plan.slicing.target
                self.empty_good[plan.sid] = plan.slicing.empty_good
                sliced.setdefault(plan.slicing.seconds, []).append(plan.sid)
        self.sliced = {size: np.array(sids, np.int64) for size, sids in sliced.items()}

    def _tier(self, window: Window) -> int:
        layout = self.store.layout
        if window.seconds is None:
            return layout.calendar_tier_index(window.unit)
        return layout.tier_index(window.seconds)

    def counts(self, window: Window, times_us: Int64s) -> Int64s:
        """Counters of every series over `window` ending at each time: shape (n, series, 3)."""
        return self.read([window], times_us)[window]

    def read(self, windows: Iterable[Window], times_us: Int64s, events: bool = False) -> dict[Window, Int64s]:
        """`counts` of several windows, each ring of the store read once for all of them. A timeslice
        series counts its slices (`as_slices`), unless `events` asks for its events."""
        reads = {w: (self._tier(w), w.starts(times_us)) for w in windows}
        counts = dict(zip(reads, self.store.windows_counts(list(reads.values()), times_us), strict=True))
        if not events:
            self.as_slices({w: starts for w, (_, starts) in reads.items()}, times_us, counts)
        return counts

    def spans(self, window: Window, starts_us: Int64s, ends_us: Int64s) -> Int64s:
        """Counters over (start, end] spans that end recently, read where `window` is: (n, series, 3)
        (slices for a timeslice series)."""
        counts = self.store.window_counts(self._tier(window), starts_us, ends_us)
        self.as_slices({window: starts_us}, ends_us, {window: counts})
        return counts

    def as_slices(self, starts_us: dict[Any, Int64s], ends_us: Int64s, counts: dict[Any, Int64s]) -> None:
        """Replace, in `counts` (spans (start, end] by key, shaped (n, series, 3)), the counters of
        every timeslice series with its slices: (good, bad, empty) slices of the span.

        A span counts the slices that have closed by its end and closed after its start: those whose
        end lies in (⌊start/s⌋·s, ⌊end/s⌋·s], both edges moved back to a slice edge, so a slice is
        counted once whole (a rolling window of whole slices always holds as many)."""
        if len(self.slice_targets) != self.store.n_series:
            self._slicing()
        # Windows only event SLOs read need no slices (any other span may be a timeslice SLO's).
        starts_us = {
            k: v for k, v in starts_us.items() if not isinstance(k, Window) or k in self.slice_windows
        }
        if not self.sliced or not starts_us:
            return
        for size, sids in self.sliced.items():
            tier, slice_us = self.store.layout.slice_tier_index(size), size * US
            firsts = np.stack([starts // slice_us for starts in starts_us.values()])
            summed = self.store.slice_counts(tier, firsts, ends_us // slice_us, self._verdicts)
            for key, sliced in zip(starts_us, summed, strict=True):
                counts[key][:, sids] = sliced[:, sids]

    def _verdicts(self, data: Int64s) -> Int64s:
        """Each slice's counters (n, series, 3) as one slice: (good, bad, empty), each 0 or 1.

        A slice is good when its good events are at least the target share of its good and bad ones
        (with the tolerance of burn rates); an empty one is good, or counts neither way (skipped)."""
        good, bad = data[..., GOOD], data[..., BAD]
        total = good + bad
        empty = total == 0
        met = good >= total * self.slice_targets[: data.shape[1]] * (1 - TOLERANCE)
        out = np.empty_like(data)
        out[..., GOOD] = met & (~empty | self.empty_good[: data.shape[1]])
        out[..., BAD] = ~met
        out[..., EXCLUDED] = empty
        return out

    def resolution_s(self, window: Window) -> int:
        """The bucket size `window` is read at: a span's start rounds up to a multiple of it."""
        return self.store.layout.tiers[self._tier(window)].bucket_s

    def evaluate_alerts(self, times_us: Int64s, every_window: bool = False) -> Evaluation:
        """Advance every alert through evaluations at these increasing times.

        The result holds the counters of the windows read (all of every SLO's with
        `every_window`) and each alert's state at each time.
        """
        self.sync()
        if not len(times_us):
            return Evaluation(times_us, {}, {})
        # The windows rules read (every one with `every_window`), each ring read once for all of
        # them; any other on demand.
        windows = (w for plan in self.series for w in (plan.windows if every_window else plan.alert_windows))
        counts = self.read(dict.fromkeys(windows), times_us)
        reading = Reading(self, times_us, counts)
        active: dict[tuple[int, str], Bools] = {}
        for plan in self.series:
            for rule in plan.rules:
                condition = KINDS[rule.kind].condition(rule, plan, reading)
                key = (plan.sid, rule.name)
                active[key] = self.trackers[key].observe(times_us, condition)
        return Evaluation(times_us, counts, active)

    def tick(self) -> None:
        """Live mode: evaluate alerts once, at the clock's now."""
        self.evaluate_alerts(np.array([self.clock.now_us()], np.int64))

    def snapshot(self) -> Snapshot:
        """Every SLO's state at the clock's now."""
        return finish(self.snapshot_steps())

    def snapshot_steps(self) -> Steps[Snapshot]:
        """`snapshot` in steps of a series or a latency window each, all at the instant it starts:
        between steps a caller may serve others, as long as the store is left alone."""
        self.sync()
        now = self.clock.now_us()
        at = np.array([now], np.int64)
        windows = dict.fromkeys(w for p in self.plans for w in p.windows)  # each read once, for every series
        counts = {w: c[0] for w, c in self.read(windows, at).items()}
        events = counts  # a timeslice SLO's events over its period, besides its slices
        if self.sliced:
            periods = dict.fromkeys(p.period for p in self.plans if p.slicing is not None)
            events = {w: c[0] for w, c in self.read(periods, at, events=True).items()}
        slos = []
        for plan in self.plans:
            yield
            slos.append((yield from self._status(plan, now, counts, events)))
        yield
        return Snapshot(now, tuple(slos), self._release(now, tuple(slos)))

    def _release(self, now: int, slos: tuple[SLOStatus, ...]) -> Release:
        at = np.array([now], np.int64)
        read: dict[int, Int64s] = {}  # window seconds -> counters of every series, read once

        def ratios(plan: Plan, seconds: int) -> tuple[float | None, float | None]:
            """(burn rate, SLI) of one series over a window ending now; None without events."""
            if seconds not in read:
                read[seconds] = self.counts(_window(seconds), at)[0]
            good, bad, _ = (int(v) for v in read[seconds][plan.sid])
            if not good + bad:
                return None, None
            return bad / (good + bad) / plan.budget_ratio, good / (good + bad)

        def facts(plan: Plan, status: SLOStatus) -> SLOFacts:
            burn, sli = (lambda s: ratios(plan, s)[0]), (lambda s: ratios(plan, s)[1])
            return SLOFacts(status.name, status.budget, burn, sli, status.title)

        return decide(self.release_rules, [facts(p, s) for p, s in zip(self.plans, slos, strict=True)])

    def _status(
        self, plan: Plan, now: int, counts: dict[Window, Int64s], events: dict[Window, Int64s]
    ) -> Steps[SLOStatus]:
        # A timeslice series' events come from their own read: its `counts` hold slices.
        good, bad, excluded = (int(v) for v in (events if plan.slicing else counts)[plan.period][plan.sid])
        counted = good, bad, good + bad > 0  # good and bad events (or slices), and whether there are any
        slices = None
        if plan.slicing is not None:
            slices = self._slice_stats(plan, now, counts[plan.period][plan.sid])
            counted = (
                slices.good,
                slices.bad,
                slices.good + slices.bad - slices.empty * plan.slicing.empty_good > 0,
            )
        budget = self._budget(plan, now, *counted)
        if slices is not None and budget.remaining_ratio is not None:
            slices = msgspec.structs.replace(slices, remaining=budget.remaining_ratio * slices.budget)
        windows = tuple(self._window_stats(plan, w, counts[w][plan.sid], budget, now) for w in plan.windows)
        latency = plan.slo.sli.latency
        percentiles = (yield from self._percentiles(plan, now)) if latency else None
        return SLOStatus(
            name=plan.slo.name,
            labels=plan.labels,
            objective=plan.slo.target,
            period=plan.period.label,
            good=good,
            bad=bad,
            excluded=excluded,
            sli=counted[0] / (counted[0] + counted[1]) if counted[2] else None,
            budget=budget,
            status=plan.policy.status(budget.remaining_ratio),
            windows=windows,
            latency_threshold_ms=latency.threshold * latency.scale_to_us / 1e3 if latency else None,
            percentiles_ms=percentiles,
            alerts=tuple(self._alert_state(plan, r) for r in plan.rules),
            budgeting=TIMESLICES if slices is not None else OCCURRENCES,
            slices=slices,
        )

    def _slice_stats(self, plan: Plan, now: int, data: Int64s) -> SliceStats:
        """A timeslice series' slices over its period: good, bad, empty, and its budget in slices."""
        slicing = plan.slicing
        assert slicing is not None
        in_period = plan.period.length_s(now) // slicing.seconds
        return SliceStats(
            length=slicing.label,
            target=slicing.target,
            empty_slices="good" if slicing.empty_good else "skip",
            good=int(data[GOOD]),
            bad=int(data[BAD]),
            empty=int(data[EXCLUDED]),
            budget=plan.budget_ratio * in_period,
            remaining=None,
        )

    def _budget(self, plan: Plan, now: int, good: int, bad: int, data: bool) -> Budget:
        """The budget over the period from its good and bad events (or slices); `data`: whether any
        event counted (for a timeslice series: any closed slice held one)."""
        total_minutes = plan.budget_ratio * plan.period.length_s(now) / 60
        if not data:
            return Budget(None, None, total_minutes, None)
        consumed = bad / (plan.budget_ratio * (good + bad))
        return Budget(consumed, 1 - consumed, total_minutes, (1 - consumed) * total_minutes)

    def _window_stats(
        self, plan: Plan, window: Window, data: Int64s, budget: Budget, now: int
    ) -> WindowStats:
        good, bad = int(data[GOOD]), int(data[BAD])
        ratio, burn = (float(v[0]) for v in burn_rates(np.array([good]), np.array([bad]), plan.budget_ratio))
        exhaustion = None
        remaining = budget.remaining_ratio
        if remaining is not None and remaining > 0 and burn > 0:
            exhaustion = remaining * plan.period.length_s(now) / 3600 / burn
        return WindowStats(
            window.label, window.length_s(now), good, bad, _none(ratio), _none(burn), exhaustion
        )

    def percentile_series(self, plan: Plan, seconds: int, times_us: Int64s, percentile: float) -> Floats:
        """A latency percentile (µs) over the window ending at each time; NaN where it has no events."""
        tier = self._tier(_window(seconds))
        out = np.full(len(times_us), np.nan)
        for i, end in enumerate(times_us.tolist()):
            hist = self.store.latency_counts(tier, plan.sid, end - seconds * US, end)
            value = self.store.hdr.percentiles(hist, [percentile])[percentile]
            if value is not None:
                out[i] = value
        return out

    def _percentiles(self, plan: Plan, now: int) -> Steps[dict[str, dict[str, float | None]]]:
        """Percentiles (ms) of a latency series over each window, a step a window."""
        latency = plan.slo.sli.latency
        assert latency is not None
        result = {}
        for window in plan.windows:
            yield
            start = int(window.starts(np.array([now], np.int64))[0])
            hist = self.store.latency_counts(self._tier(window), plan.sid, start, now)
            values = self.store.hdr.percentiles(hist, latency.percentiles)
            result[window.label] = {_pname(p): (None if v is None else v / 1e3) for p, v in values.items()}
        return result

    def _alert_state(self, plan: Plan, rule: AlertRule) -> AlertState:
        tracker = self.trackers[(plan.sid, rule.name)]
        return AlertState(
            name=rule.name,
            severity=rule.severity,
            kind=rule.kind,
            threshold=rule.threshold,
            factor=rule.factor,
            long_window=format_duration(rule.long_s) if rule.long_s else plan.period.label,
            short_window=format_duration(rule.short_s) if rule.short_s else None,
            active=tracker.active,
            intervals=tracker.intervals,
            labels=rule.labels,
        )


def _pname(p: float) -> str:
    """`95.0` -> `p95`, `99.9` -> `p99.9`."""
    return f"p{p:g}"
