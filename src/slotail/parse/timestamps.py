"""Event timestamps: ISO 8601 with Z or an offset, or epoch seconds / milliseconds, to microseconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache

US = 1_000_000
MS_THRESHOLD = 100_000_000_000  # epoch numbers at or above this are milliseconds (1e11 s is year 5138)
MAX_US = 253_402_300_800 * US - 1  # the last microsecond of 9999-12-31 (UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1 << 16)
def _minute_seconds(prefix: str) -> int | None:
    """Epoch seconds of `YYYY-MM-DDTHH:MM` read as UTC, or None; cached since logs repeat it."""
    if (
        len(prefix) != 16
        or prefix[4] != "-"
        or prefix[7] != "-"
        or prefix[10] not in "Tt "
        or prefix[13] != ":"
    ):
        return None
    parts = [prefix[0:4], prefix[5:7], prefix[8:10], prefix[11:13], prefix[14:16]]
    if not all(p.isdigit() and p.isascii() for p in parts):
        return None
    try:
        y, mo, d, h, mi = (int(p) for p in parts)
        when = datetime(y, mo, d, h, mi, tzinfo=UTC)
    except ValueError:
        return None
    delta = when - _EPOCH
    return delta.days * 86400 + delta.seconds


@lru_cache(maxsize=1 << 12)
def _prefix_seconds(prefix: str) -> int | None:
    """Epoch seconds of `YYYY-MM-DDTHH:MM:SS` read as UTC, or None; busy logs repeat it too."""
    second = prefix[17:19]
    if len(prefix) != 19 or prefix[16] != ":" or not (second.isdigit() and second.isascii()) or second > "59":
        return None
    minute = _minute_seconds(prefix[:16])
    return None if minute is None else minute + int(second)


def _offset_seconds(zone: str) -> int | None:
    """Seconds east of UTC for `+HH:MM`, `+HHMM` or `+HH`, or None."""
    sign = 1 if zone[0] == "+" else -1 if zone[0] == "-" else 0
    digits = zone[1:].replace(":", "", 1) if len(zone) == 6 and zone[3] == ":" else zone[1:]
    if not sign or len(digits) not in (2, 4) or not (digits.isdigit() and digits.isascii()):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    return sign * (hours * 3600 + minutes * 60)


_SECONDS: dict[str, int] = {}  # `YYYY-MM-DDTHH:MM:SS` -> epoch seconds, for the `.fffZ` fast path


def parse_iso(text: str, naive_utc: bool = False) -> int | None:
    """Microseconds since the epoch for an ISO 8601 / RFC 3339 time, or None if it is not one."""
    if len(text) == 24 and text[19] == "." and text[23] == "Z":  # `2026-02-19T09:00:00.412Z`, most logs
        seconds, fraction = _SECONDS.get(text[:19]), text[20:23]
        if seconds is not None and fraction.isdigit() and fraction.isascii():
            result = seconds * US + int(fraction) * 1000
            return result if result <= MAX_US else None
    seconds = _prefix_seconds(text[:19])
    if seconds is not None and len(text) == 24 and seconds >= 0:
        if len(_SECONDS) >= 1 << 16:
            _SECONDS.clear()
        _SECONDS[text[:19]] = seconds
    if seconds is None:
        return None
    rest, micros = text[19:], 0
    digits = rest[1:-1]
    if rest[:1] == "." and rest[-1:] == "Z" and digits.isdigit() and digits.isascii():
        # The common `.fffZ` (and `.fZ` to `.ffffffZ`...), without the scan below.
        micros = int(digits) * 1000 if len(digits) == 3 else int(digits[:6].ljust(6, "0"))
        result = seconds * US + micros
        return result if 0 <= result <= MAX_US else None
    if rest[:1] in (".", ","):
        end = 1
        while end < len(rest) and rest[end].isdigit() and rest[end].isascii():
            end += 1
        if end == 1:
            return None
        micros = int(rest[1:end][:6].ljust(6, "0"))
        rest = rest[end:]
    if rest in ("Z", "z"):
        offset = 0
    elif rest == "":
        if not naive_utc:
            return None
        offset = 0
    else:
        found = _offset_seconds(rest)
        if found is None:
            return None
        offset = found
    result = (seconds - offset) * US + micros
    return result if 0 <= result <= MAX_US else None


def to_epoch_us(value: object, naive_utc: bool = False) -> int | None:
    """Microseconds since the epoch for a timestamp field's value, or None when it is unusable."""
    if type(value) is str:
        return parse_iso(value, naive_utc)
    if type(value) is int:
        us = value * 1000 if abs(value) >= MS_THRESHOLD else value * US
    elif type(value) is float:
        scaled = value * (1000 if abs(value) >= MS_THRESHOLD else US)
        if not math.isfinite(scaled):  # NaN, infinities, and huge values that overflow when scaled
            return None
        us = round(scaled)
    else:
        return None
    return us if 0 <= us <= MAX_US else None
