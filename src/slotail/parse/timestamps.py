"""Event timestamps to microseconds: ISO 8601 with Z or an offset, epoch numbers (s, ms, µs or ns, by
magnitude or a given unit; as numbers or decimal strings), or strings in a given strptime format."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from itertools import compress, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from slotail.parse.record import MISSING

US = 1_000_000
MAX_US = 253_402_300_800 * US - 1  # the last microsecond of 9999-12-31 (UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH

# Epoch numbers by magnitude: s < 1e11 <= ms < 1e14 <= µs < 1e17 <= ns. 1e11 s is the year 5138, and
# each next unit starts where the one before reaches it, so every instant since 1973 has one reading.
UNITS = ("s", "ms", "us", "ns")
UNIT_FLOORS = (10**11, 10**14, 10**17)  # where ms, µs and ns begin
MS_THRESHOLD = UNIT_FLOORS[0]
UNIT_SCALE = {"s": US, "ms": 1000, "us": 1}  # µs per unit; ns divide by 1000 instead


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


def unit_of(magnitude: float, unit: str | None) -> str:
    """The unit of an epoch number: the one given, else the one its magnitude falls in."""
    if unit is not None:
        return unit
    return UNITS[sum(magnitude >= floor for floor in UNIT_FLOORS)]


def _in_range(us: int) -> int | None:
    return us if 0 <= us <= MAX_US else None


def epoch_int_us(value: int, unit: str | None = None) -> int | None:
    """µs of an integer epoch number (truncated from ns), or None out of range."""
    found = unit_of(abs(value), unit)
    return _in_range(value // 1000 if found == "ns" else value * UNIT_SCALE[found])


def epoch_float_us(value: float, unit: str | None = None) -> int | None:
    """µs of a float epoch number (rounded to the nearest), or None when unusable."""
    if not math.isfinite(value):
        return None
    found = unit_of(abs(value), unit)
    scaled = value / 1000 if found == "ns" else value * UNIT_SCALE[found]
    if not math.isfinite(scaled):  # huge values overflow when scaled
        return None
    return _in_range(round(scaled))


_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)


def epoch_text_us(text: str, unit: str | None = None) -> int | None:
    """µs of an epoch number written as a string (`"1771491600.123"`), exactly: digits beyond the µs
    truncated, as in ISO fractions. None unless the text is digits with an optional fraction."""
    found = _DECIMAL.fullmatch(text)
    if found is None:
        return None
    whole, fraction = int(found[1]), found[2] or ""
    unit = unit_of(whole, unit)
    if unit == "ns":
        return _in_range(whole // 1000)
    digits = {"s": 6, "ms": 3, "us": 0}[unit]
    return _in_range(whole * UNIT_SCALE[unit] + int(fraction[:digits].ljust(digits, "0") or 0))


def text_us(text: str, naive_utc: bool = False, unit: str | None = None) -> int | None:
    """µs of a timestamp string: ISO 8601, else an epoch number written as a string."""
    found = parse_iso(text, naive_utc)
    return found if found is not None else epoch_text_us(text, unit)


def to_epoch_us(value: object, naive_utc: bool = False, unit: str | None = None) -> int | None:
    """Microseconds since the epoch for a timestamp field's value, or None when it is unusable."""
    if type(value) is str:
        return text_us(value, naive_utc, unit)
    if type(value) is int:
        return epoch_int_us(value, unit)
    if type(value) is float:
        return epoch_float_us(value, unit)
    return None


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


def parse_iso_many(texts: list[str], naive_utc: bool = False, unit: str | None = None) -> Int64s:
    """`text_us` of each text, -1 where it gives None: the common UTC shapes in numpy, a length
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
        found = text_us(texts[i], naive_utc, unit)
        result[i] = -1 if found is None else found
    return result


def epoch_ints_us(values: Int64s, unit: str | None = None) -> Int64s:
    """`epoch_int_us` of each value, -1 where it gives None, in numpy."""
    if unit is None:
        which = np.searchsorted(np.array(UNIT_FLOORS, np.int64), values, "right")
    else:
        which = np.full(len(values), UNITS.index(unit))
    scale = np.array([US, 1000, 1, 1], np.int64)[which]
    limit = np.array([MAX_US // US, MAX_US // 1000, MAX_US, np.iinfo(np.int64).max], np.int64)[which]
    ok = (values >= 0) & (values <= limit)
    us = np.where(which == 3, values // 1000, values * np.where(ok, scale, 0))
    return np.where(ok & (us <= MAX_US), us, -1)


def epoch_floats_us(values: npt.NDArray[np.float64], unit: str | None = None) -> Int64s:
    """`epoch_float_us` of each value, -1 where it gives None, in numpy (the same operations)."""
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = np.abs(values)
        if unit is None:
            which = np.searchsorted(np.array(UNIT_FLOORS, np.float64), magnitude, "right")
            which[np.isnan(values)] = 0
        else:
            which = np.full(len(values), UNITS.index(unit))
        scale = np.array([US, 1000, 1, 1], np.float64)[which]
        scaled = np.where(which == 3, values / 1000, values * scale)
        rounded = np.rint(np.where(np.isfinite(scaled), scaled, -1.0))
        ok = (rounded >= 0) & (rounded <= 2.0**62)  # then exact in int64, and checked against MAX_US below
        us = np.where(ok, rounded, 0).astype(np.int64)
    return np.where(ok & (us <= MAX_US), us, -1)


class FormatReader:
    """Timestamp strings in an strptime format, to µs. Logs repeat a second on many lines, so each
    distinct text is parsed once while it is recent (a format with %f parses every distinct text)."""

    def __init__(self, fmt: str, naive_utc: bool = False) -> None:
        self.fmt, self.naive_utc = fmt, naive_utc
        self.cache: dict[str, int] = {}

    def one(self, text: str) -> int:
        """µs of one text, -1 when it does not match the format (or is naive and naive times are not UTC)."""
        found = self.cache.get(text)
        if found is None:
            found = self._parse(text)
            if len(self.cache) >= 1 << 12:
                self.cache.clear()
            self.cache[text] = found
        return found

    def _parse(self, text: str) -> int:
        try:
            when = datetime.strptime(text, self.fmt)
        except (ValueError, OverflowError):
            return -1
        if when.tzinfo is None:
            if not self.naive_utc:
                return -1
            when = when.replace(tzinfo=UTC)
        us = (when - _EPOCH) // _ONE_US
        return us if 0 <= us <= MAX_US else -1

    def many(self, texts: list[str]) -> Int64s:
        """µs of each text, -1 where it is not a time in the format."""
        found = list(map(self.cache.get, texts))
        if None in found:
            found = list(map(self.one, texts))
        return np.array(found, np.int64)


INT, STR, FLOAT, NONE, OTHER = range(5)  # kinds of timestamp values
_KINDS = {int: INT, str: STR, float: FLOAT, type(None): NONE, type(MISSING): NONE}
MISSING_US, BAD_US = -2, -1


class TimeReader:
    """A config's reading of timestamp values: ISO 8601 strings (or an strptime `fmt`), epoch
    numbers and decimal strings in `unit` (by magnitude when None)."""

    def __init__(self, naive_utc: bool = False, unit: str | None = None, fmt: str | None = None) -> None:
        self.naive_utc, self.unit = naive_utc, unit
        self.texts: Callable[[list[str]], Int64s] = (
            FormatReader(fmt, naive_utc).many if fmt is not None else self._iso_many
        )

    def _iso_many(self, texts: list[str]) -> Int64s:
        return parse_iso_many(texts, self.naive_utc, self.unit)

    def one(self, value: Any) -> int:
        """µs of one value; BAD_US when unusable, MISSING_US when missing or null."""
        kind = _KINDS.get(type(value), OTHER)
        if kind == NONE:
            return MISSING_US
        if kind == STR:
            return int(self.texts([value])[0])
        found = to_epoch_us(value, self.naive_utc, self.unit) if kind != OTHER else None
        return BAD_US if found is None else found

    def many(self, raw: list[Any]) -> Int64s:
        """µs of each value, a kind at a time in numpy; BAD_US where unusable, MISSING_US where
        missing or null."""
        kinds = np.fromiter(map(_KINDS.get, map(type, raw), repeat(OTHER)), np.int8, len(raw))
        us = np.full(len(raw), BAD_US, np.int64)
        us[kinds == NONE] = MISSING_US
        for kind, convert in ((INT, self._ints), (FLOAT, self._floats), (STR, self.texts)):
            which = kinds == kind
            if which.any():
                us[which] = convert(list(compress(raw, which)))
        return us

    def _ints(self, values: list[int]) -> Int64s:
        try:
            return epoch_ints_us(np.array(values, np.int64), self.unit)
        except OverflowError:  # beyond int64 (up to 2**64 - 1): one by one, in Python's ints
            return np.array([BAD_US if (v := epoch_int_us(x, self.unit)) is None else v for x in values])

    def _floats(self, values: list[float]) -> Int64s:
        return epoch_floats_us(np.array(values, np.float64), self.unit)
