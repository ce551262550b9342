"""Maintenance windows: events of the SLOs they cover, at times inside them, count neither way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from slotail.classify.classifier import Observations
from slotail.classify.series import SeriesRegistry
from slotail.config.model import WEEKDAYS, Config, MaintenanceSpec
from slotail.outcomes import EXCLUDED
from slotail.timeutil import US

DAY_US = 86400 * US


def _day_us(day: datetime) -> int:
    return int(day.replace(tzinfo=UTC).timestamp()) * US


def _month_days(lo: datetime, hi: datetime, weekday: int, nth: int) -> Iterator[datetime]:
    """The `nth` (or last, for -1) `weekday` of every month from lo's to hi's."""
    year, month = lo.year, lo.month
    while (year, month) <= (hi.year, hi.month):
        first = datetime(year, month, 1)
        days = [first + timedelta(d) for d in range(31) if (first + timedelta(d)).month == month]
        matching = [d for d in days if d.weekday() == weekday]
        if nth == -1 or nth <= len(matching):
            yield matching[nth - 1 if nth > 0 else -1]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _candidate_days(spec: MaintenanceSpec, lo_us: int, hi_us: int) -> Iterator[datetime]:
    """Days on which a recurring window starts, from one that could still reach lo to hi."""
    reach_s = 86400 + (spec.duration or 0)
    lo = datetime.fromtimestamp(lo_us // US - reach_s, UTC).replace(tzinfo=None, hour=0, minute=0, second=0)
    hi = datetime.fromtimestamp(hi_us // US, UTC).replace(tzinfo=None)
    weekday = WEEKDAYS.index(spec.weekday) if spec.weekday is not None else None
    if spec.every == "month":
        assert weekday is not None and spec.nth is not None
        yield from _month_days(lo, hi, weekday, spec.nth)
        return
    day = lo
    while day <= hi:
        if weekday is None or day.weekday() == weekday:
            yield day
        day += timedelta(1)


def occurrences(spec: MaintenanceSpec, lo_us: int, hi_us: int) -> list[tuple[int, int]]:
    """Every [start, end) of a window that overlaps [lo_us, hi_us], in µs."""
    if spec.every is None:
        assert spec.start is not None
        end = spec.end if spec.end is not None else spec.start + (spec.duration or 0) * US
        return [(spec.start, end)] if spec.start <= hi_us and end > lo_us else []
    assert spec.at is not None and spec.duration is not None
    found = []
    for day in _candidate_days(spec, lo_us, hi_us):
        start = _day_us(day) + spec.at * US
        end = start + spec.duration * US
        if start <= hi_us and end > lo_us:
            found.append((start, end))
    return found


class Maintenance:
    """The config's maintenance windows, applied to batches of observations."""

    def __init__(self, config: Config) -> None:
        self.windows: list[tuple[MaintenanceSpec, npt.NDArray[np.bool_]]] = []
        for spec in config.maintenance:
            covered = np.array([spec.slos is None or slo.name in spec.slos for slo in config.slos])
            self.windows.append((spec, covered))

    def apply(self, obs: Observations, registry: SeriesRegistry | None = None) -> Observations:
        """The observations with those inside a window of their SLO turned to excluded."""
        if not self.windows or not len(obs):
            return obs
        lo, hi = int(obs.ts_us.min()), int(obs.ts_us.max())
        inside = np.zeros(len(obs), bool)
        slos = obs.series if registry is None or not registry.grouped else registry.slo_index()[obs.series]
        for spec, covered in self.windows:
            mine = covered[slos]
            for start, end in occurrences(spec, lo, hi):
                inside |= mine & (obs.ts_us >= start) & (obs.ts_us < end)
        if not inside.any():
            return obs
        outcome = np.where(inside, np.int8(EXCLUDED), obs.outcome).astype(np.int8)
        latency = np.where(inside, -1, obs.latency_us)
        return Observations(obs.series, obs.ts_us, outcome, latency, obs.unmatched)
