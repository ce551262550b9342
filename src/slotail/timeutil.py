"""Durations and instants: slotail counts time in integer microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

US = 1_000_000  # microseconds per second

_UNITS_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_DURATION_FULL = re.compile(r"(?:\d+(?:ms|s|m|h|d|w|y))+")


def parse_duration(text: str) -> int:
    """Parse a Prometheus-style duration (`30s`, `5m`, `1h30m`, `30d`) into whole seconds."""
    if not isinstance(text, str) or not _DURATION_FULL.fullmatch(text.strip()):
        raise ValueError(f"expected a duration like 30s, 5m, 1h, 30d; got {text!r}")
    seconds = sum(int(n) * _UNITS_S[u] for n, u in _DURATION.findall(text.strip()))
    if seconds <= 0 or seconds != int(seconds):
        raise ValueError(f"expected a positive whole number of seconds; got {text!r}")
    return int(seconds)


def format_duration(seconds: int) -> str:
    """Render seconds in the largest exact Prometheus unit (`300` -> `5m`)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def iso_utc(ts_us: int) -> str:
    """Render an instant as RFC 3339 UTC, with fractional seconds only when present."""
    seconds, micros = divmod(ts_us, US)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if micros:
        text += f".{micros:06d}".rstrip("0")
    return text + "Z"


def parse_instant(text: str) -> int:
    """Parse an RFC 3339 instant (`2026-02-19T15:00:00Z`) given on the command line."""
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"expected an RFC 3339 time like 2026-02-19T15:00:00Z; got {text!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"time {text!r} has no offset; add Z or +HH:MM")
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


# Calendar periods (UTC): weeks from Monday 00:00 (ISO 8601), months from the 1st, quarters from
# January, April, July and October 1st. Like every window, a period holds its end and not its start.
CALENDAR_UNITS = ("week", "month", "quarter")  # a config's calendar periods (reports also use days)
DAYS = {"day": 1, "week": 7}  # the length in days of the periods of fixed length
CALENDAR_MONTHS = {"month": 1, "quarter": 3}  # and in months of the others
# The shortest and longest each can be, in seconds: the store holds the longest.
CALENDAR_SPAN_S = {
    "week": (7 * 86400, 7 * 86400),
    "month": (28 * 86400, 31 * 86400),
    "quarter": (90 * 86400, 92 * 86400),
}


def _period_start(unit: str, when: datetime) -> datetime:
    """The first instant of the period [start, next start) holding `when`."""
    if unit in DAYS:
        day = when.date() - timedelta(days=when.weekday() if unit == "week" else 0)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    months = CALENDAR_MONTHS[unit]
    return datetime(when.year, (when.month - 1) // months * months + 1, 1, tzinfo=UTC)


def _period_after(unit: str, start: datetime) -> datetime:
    """The start of the period after the one starting at `start`."""
    if unit in DAYS:
        return start + timedelta(days=DAYS[unit])
    month = start.month - 1 + CALENDAR_MONTHS[unit]
    return datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _us(when: datetime) -> int:
    return int(when.timestamp()) * US


def calendar_period_us(unit: str, ts_us: int) -> tuple[int, int]:
    """The calendar period (UTC) that holds `ts_us` as (start, end], start < ts_us ≤ end: a period holds
    its end, so an instant at midnight on the 1st is the last of the month before."""
    start = _period_start(unit, datetime.fromtimestamp((ts_us - 1) // US, UTC))
    return _us(start), _us(_period_after(unit, start))


def calendar_edges_us(unit: str, first_us: int, last_us: int) -> list[int]:
    """The edges of every period holding an instant in [first_us, last_us], from the start of the first
    to the end of the last."""
    start, end = calendar_period_us(unit, first_us)
    edges = [start, end]
    when = datetime.fromtimestamp(end // US, UTC)
    while edges[-1] < last_us:
        when = _period_after(unit, when)
        edges.append(_us(when))
    return edges


def calendar_bounds_us(
    unit: str, times_us: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(starts, ends) of the calendar period holding each time (`calendar_period_us`), for many times."""
    if not len(times_us):
        return times_us.copy(), times_us.copy()
    edges = np.array(calendar_edges_us(unit, int(times_us.min()), int(times_us.max())), np.int64)
    after = np.searchsorted(edges, times_us, side="left")
    return edges[after - 1], edges[after]


def calendar_seconds(unit: str, ts_us: int) -> int:
    """The length in seconds of the calendar period holding `ts_us` (`calendar_period_us`)."""
    start, end = calendar_period_us(unit, ts_us)
    return (end - start) // US
