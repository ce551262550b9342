"""What the engine reports at one instant: plain frozen values for every output to render."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from slotail.alerts.registry import AlertKind


def series_title(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    """How people and reports name a series: the SLO's name, then a grouped series' labels."""
    return name if not labels else name + "{" + ",".join(f"{k}={v}" for k, v in labels) + "}"


class WindowStats(msgspec.Struct, frozen=True):
    """Good and bad events in one window, and what they mean for the objective."""

    label: str
    seconds: int
    good: int
    bad: int
    error_ratio: float | None
    burn_rate: float | None
    exhaustion_hours: float | None


class Interval(msgspec.Struct, frozen=True):
    """When an alert was active: from `start_us` until `end_us` (None while still active)."""

    start_us: int
    end_us: int | None


class AlertState(msgspec.Struct, frozen=True):
    """One alert of one SLO: its rule and its history."""

    name: str
    severity: str
    kind: AlertKind  # what its condition reads; `alerts.registry.KINDS` has the words for it
    threshold: float  # bad events (count), µs (percentile) or remaining ratio (budget); 0 for burn
    factor: float
    long_window: str
    short_window: str | None
    active: bool
    intervals: tuple[Interval, ...]
    labels: tuple[tuple[str, str], ...] = ()


class Budget(msgspec.Struct, frozen=True):
    """Error budget over the SLO's period ending now."""

    consumed_ratio: float | None
    remaining_ratio: float | None
    total_minutes: float
    remaining_minutes: float | None


OCCURRENCES, TIMESLICES = "occurrences", "timeslices"  # how an SLO counts its SLI and budget


class SliceStats(msgspec.Struct, frozen=True):
    """A timeslice SLO's closed slices over its period, and its error budget counted in slices."""

    length: str  # a slice's length, as written (`5m`)
    target: float  # the share of a slice's events that must be good, as a ratio
    empty_slices: str  # what a slice without events is: `good`, or `skip` (counted neither way)
    good: int  # good slices (with the empty ones when they count as good)
    bad: int
    empty: int  # slices without events
    budget: float  # bad slices the period allows: (1 - objective) × the slices it holds
    remaining: float | None  # of them, as many as the budget's remaining ratio says (None: no data)


class SLOStatus(msgspec.Struct, frozen=True):
    """Everything known about one SLO at one instant."""

    name: str
    objective: float  # as a ratio
    period: str
    good: int
    bad: int
    excluded: int
    sli: float | None
    budget: Budget
    status: str
    windows: tuple[WindowStats, ...]
    latency_threshold_ms: float | None
    percentiles_ms: dict[str, dict[str, float | None]] | None
    alerts: tuple[AlertState, ...]
    labels: tuple[tuple[str, str], ...] = ()  # (group field, value) of a grouped SLO's series
    # `occurrences`: the SLI and budget count events; `timeslices`: slices (then `slices` is set, and
    # the windows' good and bad are slices), while good, bad and excluded stay events.
    budgeting: str = OCCURRENCES
    slices: SliceStats | None = None

    @property
    def title(self) -> str:
        return series_title(self.name, self.labels)


class Release(msgspec.Struct, frozen=True):
    """The budget policy's release decision and why: the rule's reason and condition, the SLOs that met it."""

    decision: str
    reason: str
    slos: tuple[str, ...]
    rule: str = ""  # the deciding rule's condition in words (empty for the last rule, which has none)


class Snapshot(msgspec.Struct, frozen=True):
    """The state of every SLO at `at_us`, and the release decision it leads to."""

    at_us: int
    slos: tuple[SLOStatus, ...]
    release: Release | None = None
