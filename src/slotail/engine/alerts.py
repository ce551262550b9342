"""Alert state machines: conditions at evaluation times -> active flags and intervals."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from slotail.config.model import AlertRule
from slotail.engine.snapshot import Interval
from slotail.timeutil import US

MAX_INTERVALS = 10_000  # per alert; the oldest are forgotten first


class AlertTracker:
    """Holds one alert's state between evaluations; `for` delays activation by a continuous hold."""

    def __init__(self, rule: AlertRule) -> None:
        self.rule = rule
        self.active = False
        self._holding_since: int | None = None  # start of the current run of true conditions
        self._intervals: deque[list[int | None]] = deque(maxlen=MAX_INTERVALS)
        self.last_us: int | None = None

    def observe(
        self, times_us: npt.NDArray[np.int64], condition: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.bool_]:
        """Advance through evaluations at increasing times; returns whether active at each.

        Times not after the last evaluation are skipped (and reported with the current state).
        """
        if not self.active and self._holding_since is None and not np.count_nonzero(condition):
            # The common case, nothing holds: nothing to record (stale times read inactive too).
            # (np.count_nonzero, not condition.any(): no Python wrapper, once per alert a round.)
            if len(times_us) and (self.last_us is None or int(times_us[-1]) > self.last_us):
                self.last_us = int(times_us[-1])
            return np.zeros(len(times_us), bool)
        stale = np.zeros(len(times_us), bool) if self.last_us is None else times_us <= self.last_us
        result = np.full(len(times_us), self.active)
        times_us, condition = times_us[~stale], condition[~stale]
        if not len(times_us):
            return result
        previous = np.r_[self._holding_since is not None, condition[:-1]]
        starts = condition & ~previous
        start_at = np.where(starts, np.arange(len(condition)), -1)
        latest_start = np.maximum.accumulate(start_at)
        carried = self._holding_since if self._holding_since is not None else 0
        run_start = np.where(latest_start >= 0, times_us[np.maximum(latest_start, 0)], carried)
        active = condition & (times_us - run_start >= self.rule.for_s * US)
        result[~stale] = active
        self._record(times_us, active)
        self._holding_since = int(run_start[-1]) if condition[-1] else None
        self.last_us = int(times_us[-1])
        return result

    def _record(self, times_us: npt.NDArray[np.int64], active: npt.NDArray[np.bool_]) -> None:
        before = np.r_[self.active, active[:-1]]
        for i in np.flatnonzero(active != before).tolist():
            if active[i]:
                self._intervals.append([int(times_us[i]), None])
            else:
                self._intervals[-1][1] = int(times_us[i])
        self.active = bool(active[-1])

    def state(self) -> dict[str, Any]:
        """Everything needed to continue this alert after a restart."""
        return {
            "active": self.active,
            "holding_since": self._holding_since,
            "last_us": self.last_us,
            "intervals": list(self._intervals),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a saved `state()`."""
        self.active = bool(state["active"])
        self._holding_since = state["holding_since"]
        self.last_us = state["last_us"]
        self._intervals.extend([list(i) for i in state["intervals"]])

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return tuple(Interval(start, end) for start, end in self._intervals)  # type: ignore[arg-type]
