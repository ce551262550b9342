"""Clocks: the engine never reads the time itself; it is handed one of these."""

from __future__ import annotations

import time
from typing import Protocol

from slotail.timeutil import US


class Clock(Protocol):
    """Where "now" comes from, in microseconds since the epoch."""

    def now_us(self) -> int: ...


class WallClock:
    """The system clock, for live mode."""

    def now_us(self) -> int:
        return time.time_ns() // 1000


class ManualClock:
    """A clock stepped by hand: event time in backfill, and tests."""

    def __init__(self, now_us: int = 0) -> None:
        self._now = now_us

    def now_us(self) -> int:
        return self._now

    def set(self, now_us: int) -> None:
        self._now = now_us

    def advance(self, seconds: float) -> None:
        self._now += round(seconds * US)
