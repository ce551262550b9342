"""Durations and instants: slotail counts time in integer microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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


def month_start_us(ts_us: int) -> int:
    """The first instant of the calendar month (UTC) that holds `ts_us`."""
    when = datetime.fromtimestamp(ts_us // US, UTC)
    start = datetime(when.year, when.month, 1, tzinfo=UTC)
    return int(start.timestamp()) * US


def month_seconds(ts_us: int) -> int:
    """The length of the calendar month (UTC) that holds `ts_us`, in seconds."""
    when = datetime.fromtimestamp(ts_us // US, UTC)
    start = datetime(when.year, when.month, 1, tzinfo=UTC)
    nxt = datetime(when.year + (when.month == 12), when.month % 12 + 1, 1, tzinfo=UTC)
    return int((nxt - start).total_seconds())
