"""An independent reference computation of DESIGN.md's SLO arithmetic, straight from raw events.

It shares no code with slotail: windows are counted with numpy searchsorted over
sorted event times, alerts are stepped in a plain loop, percentiles are ranks of
sorted values. Tests compare slotail's output to this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

US = 1_000_000
TOLERANCE = 1e-9  # DESIGN's burn-rate comparison tolerance


def bucket_for(window_s: int, base_s: int = 10) -> int:
    """The spec's bucket rule: the coarsest of 1m, 10m, 1h that is at most 1% of the window."""
    best = base_s
    for size in (60, 600, 3600):
        if size > base_s and size * 100 <= window_s:
            best = size
    return best


def window_start(end_us: int, window_s: int, base_s: int = 10) -> int:
    """The exclusive start of the window ending at `end_us`, rounded up to its bucket."""
    b = bucket_for(window_s, base_s) * US
    return math.ceil((end_us - window_s * US) / b) * b


def iso(ts_us: int) -> str:
    seconds, micros = divmod(ts_us, US)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{micros:06d}".rstrip("0") if micros else "") + "Z"


@dataclass
class SLOTruth:
    """The raw outcome of each event of one SLO: sorted times of good, bad and excluded events."""

    name: str
    objective: float  # percent
    period_s: int
    good: np.ndarray
    bad: np.ndarray
    excluded: np.ndarray
    latency_ms: np.ndarray | None = None  # latency of each good/bad event, aligned with `timed_ts`
    timed_ts: np.ndarray | None = None
    alerts: list[dict] = field(
        default_factory=list
    )  # name, severity, factor, long_s, short_s, for_s, min_events

    @staticmethod
    def build(name, objective, period_s, ts_us, good, bad, excluded, latency_ms=None, alerts=()):
        ts_us = np.asarray(ts_us, np.int64)
        truth = SLOTruth(
            name,
            objective,
            period_s,
            np.sort(ts_us[good]),
            np.sort(ts_us[bad]),
            np.sort(ts_us[excluded]),
            alerts=list(alerts),
        )
        if latency_ms is not None:
            timed = good | bad
            order = np.argsort(ts_us[timed], kind="stable")
            truth.timed_ts = ts_us[timed][order]
            truth.latency_ms = np.asarray(latency_ms, float)[timed][order]
        return truth

    @property
    def budget_ratio(self) -> float:
        return (100.0 - self.objective) / 100.0

    def count(self, times: np.ndarray, window_s: int, which: str) -> np.ndarray:
        ts = getattr(self, which)
        times = np.asarray(times, np.int64)
        starts = np.array([window_start(int(t), window_s) for t in times], np.int64)
        return np.searchsorted(ts, times, "right") - np.searchsorted(ts, starts, "right")

    def counts(self, t: int, window_s: int | None) -> tuple[int, int, bool]:
        """(good, bad, any data) over the window ending at t (None: the period)."""
        w = self.period_s if window_s is None else window_s
        good, bad = (int(self.count([t], w, which)[0]) for which in ("good", "bad"))
        return good, bad, good + bad > 0

    def period_length(self, t: int) -> int:
        """The period's length in seconds at t."""
        return self.period_s

    def burn(self, t: int, window_s: int) -> tuple[float | None, int]:
        good, bad, _ = self.counts(t, window_s)
        if good + bad == 0:
            return None, 0
        return (bad / (good + bad)) / self.budget_ratio, good + bad

    def window(self, t: int, window_s: int | None) -> dict:
        good, bad, _ = self.counts(t, window_s)
        ratio = bad / (good + bad) if good + bad else None
        burn = ratio / self.budget_ratio if ratio is not None else None
        remaining = self.budget(t)["remaining_ratio"]
        exhaustion = None
        if remaining is not None and remaining > 0 and burn:
            exhaustion = remaining * self.period_length(t) / 3600 / burn
        return {
            "good": good,
            "bad": bad,
            "error_ratio": ratio,
            "burn_rate": burn,
            "exhaustion_hours": exhaustion,
        }

    def budget(self, t: int) -> dict:
        good, bad, data = self.counts(t, None)
        total = self.budget_ratio * self.period_length(t) / 60
        if not data:
            return {
                "consumed_ratio": None,
                "remaining_ratio": None,
                "total_minutes": total,
                "remaining_minutes": None,
            }
        consumed = bad / (self.budget_ratio * (good + bad))
        return {
            "consumed_ratio": consumed,
            "remaining_ratio": 1 - consumed,
            "total_minutes": total,
            "remaining_minutes": (1 - consumed) * total,
        }

    def sli(self, t: int) -> float | None:
        good, bad, data = self.counts(t, None)
        return good / (good + bad) if data else None

    def percentile(self, t: int, window_s: int, p: float) -> float | None:
        lo = window_start(t, window_s)
        mask = (self.timed_ts > lo) & (self.timed_ts <= t)
        values = np.sort(self.latency_ms[mask])
        if not len(values):
            return None
        rank = max(int(p / 100 * len(values) + 0.5), 1)
        return float(values[rank - 1])

    def alert_intervals(self, steps: list[int], alert: dict) -> tuple[list[dict], bool]:
        """Step the alert through every evaluation time in a plain loop."""
        intervals, active, since = [], False, None
        for t in steps:
            long_burn, long_events = self.burn(t, alert["long_s"])
            cond = long_burn is not None and long_burn >= alert["factor"] * (1 - TOLERANCE)
            cond = cond and long_events >= alert.get("min_events", 0)
            if alert.get("short_s"):
                short_burn, _ = self.burn(t, alert["short_s"])
                cond = cond and short_burn is not None and short_burn >= alert["factor"] * (1 - TOLERANCE)
            since = (since if since is not None else t) if cond else None
            now_active = cond and t - since >= alert.get("for_s", 0) * US
            if now_active and not active:
                intervals.append({"start": iso(t), "end": None})
            if active and not now_active:
                intervals[-1]["end"] = iso(t)
            active = now_active
        return intervals, active


def status(remaining: float | None) -> str:
    if remaining is None:
        return "no_data"
    for name, above in (("healthy", 0.5), ("warning", 0.25), ("critical", 0.0)):
        if remaining > above:
            return name
    return "exhausted"


def steps(first_us: int, at_us: int, step_s: int = 60) -> list[int]:
    """Epoch-aligned evaluation times from the first event to `at`, plus `at` itself."""
    step = step_s * US
    times = list(range(math.ceil(first_us / step) * step, at_us + 1, step))
    if not times or times[-1] != at_us:
        times.append(at_us)
    return times


@dataclass
class SliceTruth(SLOTruth):
    """A timeslice SLO straight from raw events: each closed slice judged by its own good and bad events.

    Slice k holds times ((k-1)·s, k·s]; a span (start, end] holds the slices whose end lies in
    (⌊start/s⌋·s, ⌊end/s⌋·s]. The period is rolling (`period_s`), or calendar (`edges`: the first
    instant of each period, in order, computed by the test from a calendar)."""

    slice_s: int = 60
    target: float = 1.0  # ratio of a slice's good and bad events that must be good
    empty_good: bool = True
    edges: list[int] | None = None

    @staticmethod
    def build_slices(
        name,
        objective,
        period_s,
        ts_us,
        good,
        bad,
        excluded,
        slice_s,
        target,
        empty_good,
        alerts=(),
        edges=None,
    ):
        truth = SLOTruth.build(name, objective, period_s, ts_us, good, bad, excluded, alerts=alerts)
        return SliceTruth(
            truth.name,
            truth.objective,
            period_s,
            truth.good,
            truth.bad,
            truth.excluded,
            alerts=truth.alerts,
            slice_s=slice_s,
            target=target,
            empty_good=empty_good,
            edges=edges,
        )

    def slices(self, start_us: int, end_us: int) -> tuple[int, int, int]:
        """(good, bad, empty) slices of the span: good includes the empty ones when they count as good."""
        size = self.slice_s * US
        first, last = start_us // size, end_us // size
        n = last - first
        if n <= 0:
            return 0, 0, 0

        def per_slice(ts):
            k = -(-ts // size)
            k = k[(k > first) & (k <= last)]
            return np.bincount(k - first - 1, minlength=n)

        good, bad = per_slice(self.good), per_slice(self.bad)
        total = good + bad
        empty = total == 0
        met = good >= self.target * total * (1 - TOLERANCE)
        good_slices = met & (~empty | self.empty_good)
        return int(good_slices.sum()), int((~met).sum()), int(empty.sum())

    def period(self, t: int) -> tuple[int, int]:
        """(start, length in seconds) of the period ending at t."""
        if self.edges is None:
            return t - self.period_s * US, self.period_s
        start = max(e for e in self.edges if e < t)
        end = min(e for e in self.edges if e >= t)
        return start, (end - start) // US

    def counts(self, t: int, window_s: int | None) -> tuple[int, int, bool]:
        """(good, bad, any slice with events) of the slices of the window ending at t (None: the period)."""
        start = self.period(t)[0] if window_s is None else t - window_s * US
        good, bad, empty = self.slices(start, t)
        return good, bad, good + bad - (empty if self.empty_good else 0) > 0

    def period_length(self, t: int) -> int:
        return self.period(t)[1]
