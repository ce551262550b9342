"""Event timestamps: ISO 8601 with Z or an offset, or epoch seconds / milliseconds, to microseconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

US = 1_000_000
MS_THRESHOLD = 100_000_000_000  # epoch numbers at or above this are milliseconds (1e11 s is year 5138)
MAX_US = 253_402_300_800 * US - 1  # the last microsecond of 9999-12-31 (UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# The caches stay small: logs run forward in time, so the recent minutes and seconds are what repeat
# (a month of history through the sidecar's warm start filled caps of 2**16 with 16 MiB).
@lru_cache(maxsize=1 << 10)
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
        if len(_SECONDS) >= 1 << 12:
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


_DAYS_BEFORE_MONTH = np.array([0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275], np.int64)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
_PREFIX = 19  # `YYYY-MM-DDTHH:MM:SS`
GROUP_MIN = 64  # fewer texts of a length are parsed one by one (numpy's fixed cost is about 100 µs)
# Digit weights of year, month, day, hour, minute and second in the prefix (separators weigh 0).
_FIELDS = np.zeros((_PREFIX, 6), np.int64)
for _column, (_first, _last) in enumerate(((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))):
    _FIELDS[_first:_last, _column] = 10 ** np.arange(_last - _first - 1, -1, -1)


@lru_cache(maxsize=16)
def _shape(length: int) -> tuple[list[int], list[int], bytes]:
    """Digit positions, separator positions and separators of `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`."""
    fraction = "." + "0" * (length - _PREFIX - 2) if length > _PREFIX + 1 else ""
    template = "0000-00-00T00:00:00" + fraction + "Z"
    digits = [i for i, c in enumerate(template) if c == "0"]
    others = [i for i, c in enumerate(template) if c != "0"]
    return digits, others, "".join(template[i] for i in others).encode()


def _utc_group(texts: list[str], length: int) -> npt.NDArray[np.int64]:
    """µs of texts of one length shaped `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`, computed in numpy; -1 where
    a text is not so shaped or not a valid time (those are left to `parse_iso`)."""
    try:
        raw = "".join(texts).encode("ascii")
    except UnicodeEncodeError:
        return np.full(len(texts), -1, np.int64)
    chars = np.frombuffer(raw, np.uint8).reshape(len(texts), length)
    digit_at, other_at, others = _shape(length)
    digits = chars - np.uint8(48)  # bytes below "0" wrap around to 208 and more
    ok = (digits[:, digit_at] <= 9).all(axis=1)
    ok &= (chars[:, other_at] == np.frombuffer(others, np.uint8)).all(axis=1)
    wide = digits.astype(np.int64)
    year, month, day, hour, minute, second = (wide[:, :_PREFIX] @ _FIELDS).T
    places = length - _PREFIX - 2
    micros = wide[:, _PREFIX + 1 : -1] @ (10 ** np.arange(5, 5 - places, -1)) if places > 0 else 0
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    month_days = _MONTH_DAYS[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= month_days) & (hour <= 23) & (minute <= 59)
    ok &= second <= 59
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    shifted = year - (month <= 2)
    era, of_era = shifted // 400, shifted % 400
    of_year = _DAYS_BEFORE_MONTH[np.where(month_ok, month, 3)] + day - 1
    days = era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468
    result = (days * 86400 + hour * 3600 + minute * 60 + second) * US + micros
    ok &= (result >= 0) & (result <= MAX_US)
    return np.where(ok, result, -1)


def parse_iso_many(texts: list[str], naive_utc: bool = False) -> npt.NDArray[np.int64]:
    """`parse_iso` of each text, -1 where it gives None: the common UTC shapes in numpy, the rest one
    by one."""
    result = np.full(len(texts), -1, np.int64)
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    for length in np.unique(lengths).tolist():
        which = np.flatnonzero(lengths == length)
        if len(which) >= GROUP_MIN and (length == _PREFIX + 1 or _PREFIX + 3 <= length <= _PREFIX + 8):
            result[which] = _utc_group([texts[i] for i in which.tolist()], length)
        for i in which[result[which] < 0].tolist():
            found = parse_iso(texts[i], naive_utc)
            result[i] = -1 if found is None else found
    return result
