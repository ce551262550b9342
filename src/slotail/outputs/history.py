"""A bounded history of every SLO's error ratios through a backfill, for charts over time.

`HistoryRecorder.add` is a `Backfill.on_evaluation` hook: it sees each window's
counters at every step. Steps are folded into points of `stride` steps; when
the points reach twice `points`, neighbours are merged and the stride doubles,
so memory stays between `points` and `2 * points` whatever the length of the
logs. A point holds the highest error ratio within its stride (a short spike is
never lost) and is stamped with its last step; the newest step is kept apart
as the last point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from slotail.engine.engine import Evaluation, Plan, Window, burn_rates
from slotail.outcomes import BAD, GOOD

Floats = npt.NDArray[np.float64]
Int64s = npt.NDArray[np.int64]
POINTS = 150


@dataclass(frozen=True)
class SLOHistory:
    """One SLO's error ratio per window at each point; burn rate and budget follow from it."""

    name: str
    budget_ratio: float
    period: str
    times_us: Int64s
    error_ratios: dict[str, Floats]  # window label -> one value per point (NaN: no events)

    def burn_rates(self, window: str) -> Floats:
        return self.error_ratios[window] / self.budget_ratio

    def budget_remaining(self) -> Floats:
        """Remaining ratio of the error budget over the period ending at each point."""
        return 1 - self.burn_rates(self.period)


def _worst(values: Floats, size: int) -> Floats:
    """The highest of each run of `size` rows, ignoring NaN (all NaN stays NaN)."""
    shaped = values.reshape(-1, size, values.shape[1])
    worst: Floats = np.fmax.reduce(shaped, axis=1)
    return worst


class HistoryRecorder:
    """Collects evaluations step by step into at most `2 * points` points; `history` reads them out."""

    def __init__(self, plans: list[Plan], points: int = POINTS) -> None:
        self.plans = plans
        self.points = points
        self.columns = [(p, w) for p in plans for w in p.windows]
        self.stride = 1
        self._times = np.zeros(0, np.int64)
        self._values = np.zeros((0, len(self.columns)))
        self._pending_t = np.zeros(0, np.int64)
        self._pending_v = np.zeros((0, len(self.columns)))

    def add(self, evaluation: Evaluation) -> None:
        """Fold in the evaluated steps."""
        if not len(evaluation.times_us):
            return
        ratios = [self._ratios(evaluation, plan, window) for plan, window in self.columns]
        self._pending_t = np.concatenate((self._pending_t, evaluation.times_us))
        self._pending_v = np.concatenate((self._pending_v, np.column_stack(ratios)))
        self._absorb()

    def _ratios(self, evaluation: Evaluation, plan: Plan, window: Window) -> Floats:
        data = evaluation.counts[window][:, plan.sid]
        return burn_rates(data[:, GOOD], data[:, BAD], plan.budget_ratio)[0]

    def _absorb(self) -> None:
        while True:
            room = 2 * self.points - len(self._times)
            groups = min((len(self._pending_t) - 1) // self.stride, room)  # the newest step waits
            if not groups:
                return
            take = groups * self.stride
            self._times = np.concatenate((self._times, self._pending_t[self.stride - 1 : take : self.stride]))
            self._values = np.concatenate((self._values, _worst(self._pending_v[:take], self.stride)))
            self._pending_t, self._pending_v = self._pending_t[take:], self._pending_v[take:]
            if len(self._times) == 2 * self.points:
                self._times, self._values = self._times[1::2], _worst(self._values, 2)
                self.stride *= 2

    def history(self) -> dict[str, SLOHistory]:
        """Every SLO's points; the steps not yet folded make one more, and the last step is a point of its
        own (it is never folded), so a chart ends at the report's numbers."""
        times, values = self._times, self._values
        fold = len(self._pending_t) - 1
        if fold > 0:
            times = np.append(times, self._pending_t[fold - 1])
            values = np.vstack((values, _worst(self._pending_v[:fold], fold)))
        if fold >= 0:
            times = np.append(times, self._pending_t[-1])
            values = np.vstack((values, self._pending_v[-1:]))
        out = {}
        for plan in self.plans:
            ratios = {w.label: values[:, self.columns.index((plan, w))] for w in plan.windows}
            out[plan.title] = SLOHistory(plan.title, plan.budget_ratio, plan.period.label, times, ratios)
        return out
