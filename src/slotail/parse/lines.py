"""Parse raw lines into JSON objects with a timestamp in microseconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from slotail.parse.timestamps import to_epoch_us

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
)

MISSING = object()


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


class Parser:
    """Turns raw lines into timestamped objects; never raises on a line's content."""

    def __init__(self, timestamp_field: str = "timestamp", naive_utc: bool = False) -> None:
        self._get_ts = field_getter(timestamp_field)
        self._naive_utc = naive_utc

    def parse(self, lines: list[bytes], too_long: int = 0) -> ParsedBatch:
        batch = ParsedBatch()
        if too_long:
            batch.invalid[TOO_LONG] += too_long
        events, stamps, invalid = batch.events, batch.ts_us, batch.invalid
        loads, get_ts, naive_utc = orjson.loads, self._get_ts, self._naive_utc
        for line in lines:
            if line[:3] == BOM:
                line = line[3:]
            if not line.strip():
                continue  # an empty line is not counted
            try:
                obj = loads(line)
            except orjson.JSONDecodeError as exc:
                invalid[_json_reason(line, exc)] += 1
                continue
            if type(obj) is not dict:
                invalid[NOT_OBJECT] += 1
                continue
            raw_ts = get_ts(obj)
            if raw_ts is MISSING or raw_ts is None:
                invalid[NO_TIMESTAMP] += 1
                continue
            ts = to_epoch_us(raw_ts, naive_utc)
            if ts is None:
                invalid[BAD_TIMESTAMP] += 1
                continue
            events.append(obj)
            stamps.append(ts)
        return batch
