"""Parse raw lines into JSON objects with a timestamp in microseconds."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from slotail.parse.timestamps import MAX_US, MS_THRESHOLD, parse_iso, to_epoch_us

BOM = b"\xef\xbb\xbf"

# Reasons a line is invalid (the `reason` label of invalid-line counters).
TOO_LONG = "too_long"
BAD_UTF8 = "invalid_utf8"
BAD_JSON = "invalid_json"
NOT_OBJECT = "not_object"
NO_TIMESTAMP = "missing_timestamp"
BAD_TIMESTAMP = "bad_timestamp"
NUL_BYTE = "nul_byte"  # a NUL byte anywhere: JSON allows none, raw
TOO_DEEP = "too_deep"  # nested deeper than orjson's limit (1024)
NON_FINITE = "non_finite_number"  # NaN, Infinity, or a number that overflows a double (1e999)
BIG_INT = "integer_beyond_64_bits"  # orjson would read it as the nearest double, not exactly
REASONS = (
    TOO_LONG,
    BAD_UTF8,
    BAD_JSON,
    NOT_OBJECT,
    NO_TIMESTAMP,
    BAD_TIMESTAMP,
    NUL_BYTE,
    TOO_DEEP,
    NON_FINITE,
    BIG_INT,
)

MISSING = object()
INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # the integers orjson reads exactly
# Digits and "-" as "0", the rest blank: an integer beyond 64 bits shows as a run of 20 zeros or more
# (20 digits, or a minus and 19); other runs (dashed ids) only cost their line a second decode.
DIGITS_AS_ZERO = bytes(48 if 48 <= b <= 57 or b == 45 else 32 for b in range(256))
LONG_RUN = b"0" * 20
MS_MIN, MS_MAX = MS_THRESHOLD, MAX_US // 1000  # epoch milliseconds that need no further checks


@dataclass
class ParsedBatch:
    """The objects of one batch that parsed, their event times, and the rest counted by reason."""

    events: list[dict[str, Any]] = field(default_factory=list)
    ts_us: list[int] = field(default_factory=list)
    invalid: Counter[str] = field(default_factory=Counter)

    @property
    def parsed(self) -> int:
        return len(self.events)


def field_getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """A fast getter for a dotted path; returns a sentinel when any step is missing."""
    keys = tuple(path.split("."))
    if len(keys) == 1:
        key = keys[0]
        return lambda obj: obj.get(key, MISSING)

    def get(obj: dict[str, Any]) -> Any:
        value: Any = obj
        for key in keys:
            if type(value) is not dict:
                return MISSING
            value = value.get(key, MISSING)
        return value

    return get


def _json_reason(line: bytes, exc: orjson.JSONDecodeError) -> str:
    """Why a line failed to decode; worked out only for lines that failed."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return BAD_UTF8
    if "\x00" in text:
        return NUL_BYTE
    if "depth limit" in exc.msg:
        return TOO_DEEP
    if "infinity" in exc.msg or text.startswith(("NaN", "Infinity"), exc.pos):
        return NON_FINITE
    return BAD_JSON


def _retry(line: bytes, exc: orjson.JSONDecodeError, invalid: Counter[str]) -> object:
    """A line orjson refused: decoded after dropping a BOM, or MISSING when blank or counted invalid."""
    text = line[3:] if line[:3] == BOM else line
    if not text.strip():
        return MISSING  # an empty line is not counted
    if text is not line:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as bom_exc:
            exc = bom_exc  # the reason is about the text after the BOM
    invalid[_json_reason(text, exc)] += 1
    return MISSING


class _BeyondRange(Exception):
    """An integer literal orjson cannot hold exactly."""


def _exact_int(text: str) -> int:
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise _BeyondRange
    return value


def beyond_64_bits(line: bytes) -> bool:
    """Whether a line that decodes holds an integer literal beyond 64 bits (not a digit run in a string)."""
    try:
        json.loads(line, parse_int=_exact_int)
    except _BeyondRange:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def _long_digits(data: bytes) -> bool:
    return LONG_RUN in data.translate(DIGITS_AS_ZERO)


def big_int_lines(lines: list[bytes]) -> set[int]:
    """Indexes of lines with an integer beyond 64 bits; one C-speed scan of the batch finds none fast."""
    if not _long_digits(b"\n".join(lines)):
        return set()
    return {i for i, line in enumerate(lines) if _long_digits(line) and beyond_64_bits(line)}


class Parser:
    """Turns raw lines into timestamped objects; never raises on a line's content."""

    def __init__(self, timestamp_field: str = "timestamp", naive_utc: bool = False) -> None:
        self._get_ts = field_getter(timestamp_field)
        self._ts_key = timestamp_field if "." not in timestamp_field else None
        self._naive_utc = naive_utc

    def parse(self, lines: list[bytes], too_long: int = 0) -> ParsedBatch:
        # One tight loop: orjson only fails on BOM, blank and invalid lines, which `_retry` sorts out.
        batch = ParsedBatch()
        if too_long:
            batch.invalid[TOO_LONG] += too_long
        events, stamps, invalid = batch.events, batch.ts_us, batch.invalid
        loads, decode_error, get_ts, ts_key = orjson.loads, orjson.JSONDecodeError, self._get_ts, self._ts_key
        add_event, add_stamp, naive_utc = events.append, stamps.append, self._naive_utc
        big = big_int_lines(lines)
        if big:
            invalid[BIG_INT] += len(big)
            lines = [line for i, line in enumerate(lines) if i not in big]
        for line in lines:
            try:
                obj = loads(line)
            except decode_error as exc:
                obj = _retry(line, exc, invalid)
                if obj is MISSING:
                    continue
            if type(obj) is not dict:
                invalid[NOT_OBJECT] += 1
                continue
            raw_ts = obj.get(ts_key, MISSING) if ts_key is not None else get_ts(obj)
            if type(raw_ts) is int and MS_MIN <= raw_ts <= MS_MAX:
                ts = raw_ts * 1000  # the common case, epoch milliseconds
            elif raw_ts is MISSING or raw_ts is None:
                invalid[NO_TIMESTAMP] += 1
                continue
            else:
                parsed = (
                    parse_iso(raw_ts, naive_utc) if type(raw_ts) is str else to_epoch_us(raw_ts, naive_utc)
                )
                if parsed is None:
                    invalid[BAD_TIMESTAMP] += 1
                    continue
                ts = parsed
            add_event(obj)
            add_stamp(ts)
        return batch
