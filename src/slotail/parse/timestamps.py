"""Event timestamps: ISO 8601 with Z or an offset, or epoch seconds / milliseconds, to microseconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from itertools import compress

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


Int64s = npt.NDArray[np.int64]


def _calendar() -> tuple[Int64s, npt.NDArray[np.bool_], Int64s, Int64s]:
    """Tables by year (0-9999): days from 1970-01-01 to its 1 January, and whether it is a leap
    year; by month (0-99, only 1-12 real): its days and the days before it in a common year."""
    year = np.arange(10_000)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    # Days since 1970-01-01 of 1 January of each year (H. Hinnant's days_from_civil, March-based).
    shifted = year - 1
    era, of_era = shifted // 400, shifted % 400
    year_days = era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + 306 - 719468
    month_days = np.zeros(100, np.int64)
    month_days[1:13] = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    before = np.zeros(100, np.int64)
    before[1:13] = np.cumsum(month_days[:13])[:12]
    return year_days, leap, month_days, before


_YEAR_DAYS, _LEAP, _MONTH_DAYS, _DAYS_BEFORE = _calendar()
_PREFIX = 19  # `YYYY-MM-DDTHH:MM:SS`
UTC_LENGTHS = range(_PREFIX + 1, 33)  # `...SSZ` to 12 fraction digits (6 are read): read in numpy
GROUP_MIN = 32  # fewer texts of one length are parsed one by one (numpy's fixed cost is about 50 µs)
# Character classes (bytes.translate), so that a text is checked against its shape in one comparison.
_CLASSES = bytes(ord("0") if 48 <= c <= 57 else c if c in b"-T:.Z" else ord("x") for c in range(256))


_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))  # year, month, day, h, m, s columns


@lru_cache(maxsize=len(UTC_LENGTHS))
def _utc_shape(length: int) -> bytes:
    """The character classes of `YYYY-MM-DDTHH:MM:SS[.f+]Z` of one length."""
    fraction = length - _PREFIX - 2
    return b"0000-00-00T00:00:00" + (b"." + b"0" * fraction if fraction > 0 else b"") + b"Z"


def _digits(chars: npt.NDArray[np.uint8], first: int, last: int) -> Int64s:
    """The decimal number in columns first..last - 1 of each row of ASCII digits."""
    # Integer arithmetic a column at a time: no BLAS (a float matmul here went multithreaded, and
    # worker processes' BLAS threads then fought over the cores), and exact by construction.
    number = chars[:, first].astype(np.int64) - 48
    for column in range(first + 1, last):
        number = number * 10 + chars[:, column] - 48
    return number


def _utc_joined(joined: bytes, length: int) -> Int64s:
    """µs of ASCII texts of one length, joined, shaped `YYYY-MM-DDTHH:MM:SS[.f+]Z`, in numpy; -1
    where a text is not so shaped or not a valid time (those are left to `parse_iso`)."""
    ok = np.frombuffer(joined.translate(_CLASSES), f"S{length}") == _utc_shape(length)
    chars = np.frombuffer(joined, np.uint8).reshape(-1, length)
    year, month, day, hour, minute, second = (_digits(chars, a, b) for a, b in _FIELDS)
    read = min(max(length - _PREFIX - 2, 0), 6)  # fraction digits read (µs); `.65Z` is 650000 µs
    micros = _digits(chars, _PREFIX + 1, _PREFIX + 1 + read) * 10 ** (6 - read) if read else 0
    year, month = np.where(ok, year, 0), np.where(ok, month, 0)  # no table lookup beyond the tables
    leap = _LEAP[year]
    month_days = _MONTH_DAYS[month] + (leap & (month == 2))  # 0 for a month that is not 1-12
    ok &= (year >= 1) & (day >= 1) & (day <= month_days) & (hour <= 23) & (minute <= 59) & (second <= 59)
    days = _YEAR_DAYS[year] + _DAYS_BEFORE[month] + (leap & (month > 2)) + day - 1
    result = (days * 86400 + hour * 3600 + minute * 60 + second) * US + micros
    ok &= (result >= 0) & (result <= MAX_US)
    return np.where(ok, result, -1)


def parse_iso_many(texts: list[str], naive_utc: bool = False) -> Int64s:
    """`parse_iso` of each text, -1 where it gives None: the common UTC shapes in numpy, a length
    at a time; the rest one by one."""
    result = np.full(len(texts), -1, np.int64)
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    counts = np.bincount(np.clip(lengths, 0, UTC_LENGTHS.stop), minlength=UTC_LENGTHS.stop + 1).tolist()
    for length in (n for n in UTC_LENGTHS if counts[n] >= GROUP_MIN):
        which = lengths == length
        try:
            joined = "".join(compress(texts, which)).encode("ascii")  # so a character is a byte
        except UnicodeEncodeError:
            continue
        result[which] = _utc_joined(joined, length)
    for i in np.flatnonzero(result < 0).tolist():
        found = parse_iso(texts[i], naive_utc)
        result[i] = -1 if found is None else found
    return result
