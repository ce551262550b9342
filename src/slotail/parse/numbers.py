"""Numeric strings read as numbers, in the fields a config declares `number` (`fields: {status: number}`).

nginx's JSON `log_format` quotes what it logs (`"status": "503"`, `"request_time": "0.300"`). In a
declared field, a string that is a decimal number becomes that number before anything reads the
field (match expressions, latencies, groups): an integer as an int (within 64 bits), anything else
as a float when finite; every other value stays as it is. Undeclared fields are never converted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from slotail.parse.record import INT_MAX, INT_MIN, Layout, dig, put
from slotail.paths import Path

DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
INTEGER = re.compile(r"[+-]?[0-9]+")
CACHE_SIZE = 1 << 14  # distinct strings remembered (statuses repeat; latencies take many values)


def number_of(text: str) -> int | float | None:
    """The number a string writes (ASCII decimal: sign, digits, fraction, exponent), or None."""
    if DECIMAL.fullmatch(text) is None:
        return None
    if INTEGER.fullmatch(text) is not None:
        value = int(text)
        if INT_MIN <= value <= INT_MAX:
            return value
    number = float(text)
    return number if math.isfinite(number) else None


def _dict_getter(path: Path) -> Callable[[Any], Any]:
    return lambda obj: dig(obj, path)


def _dict_setter(path: Path) -> Callable[[Any, Any], None]:
    return lambda obj, value: put(obj, path, value)


class Coercion:
    """Converts the numeric strings of declared fields, a batch of events (dicts or records) at a time."""

    def __init__(self, paths: Sequence[Path], layout: Layout | None = None) -> None:
        self.fields = [
            (layout.getter(p), layout.setter(p)) if layout is not None else (_dict_getter(p), _dict_setter(p))
            for p in paths
        ]
        self.cache: dict[str, int | float | None] = {}

    def apply(self, events: list[Any]) -> None:
        """Replace, in place, each declared field's numeric string by its number."""
        for get, put_value in self.fields:
            values = list(map(get, events))
            if str not in set(map(type, values)):
                continue  # numbers already (nginx with unquoted numbers): nothing per line
            for i, value in enumerate(values):
                if type(value) is str:
                    number = self._number(value)
                    if number is not None:
                        put_value(events[i], number)

    def _number(self, text: str) -> int | float | None:
        cache = self.cache
        if text in cache:
            return cache[text]
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        number = cache[text] = number_of(text)
        return number
