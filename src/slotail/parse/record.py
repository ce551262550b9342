"""Records: only the fields a config reads, decoded from each line straight into a msgspec Struct.

A config reads a handful of top-level fields (the timestamp, the fields its match
expressions, latencies and groups name). msgspec decodes a whole batch of lines
into structs of just those fields in one call, skipping the rest of each line
without building it, about twice as fast as building every object with orjson.
A record answers `get(key, default)` like the dict it stands for, so everything
that reads fields through `field_getter` reads records and dicts alike. Paths are
tuples of keys (`slotail.paths.parse_path`); a record holds their first keys.

A field read only as a number (a latency) is decoded as a float (None for
null, NaN where missing; numpy reads both as NaN): msgspec refuses a line where
it is anything else (a string, a bool), and the reference decoder then gives
it NOT_A_NUMBER, a NaN whose bits tell it from a missing field's.
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import msgspec

from slotail.paths import Path, as_path

MISSING: Any = msgspec.UNSET  # an absent field (JSON null is None); a record's default for every field
NAN = math.nan
# A quiet NaN of its own bits: a value that is present but no number (the field mismatch counts tell
# it from a missing one); numpy keeps the bits, and reads it as NaN like any other.
NOT_A_NUMBER: float = struct.unpack("<d", (0x7FF8_0000_0000_0BAD).to_bytes(8, "little"))[0]
INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # the integers orjson reads exactly


def as_number(value: Any) -> float | None:
    """A number field's value as the reference decoder's record holds it: the float of a JSON number,
    NaN where missing, None for null (as msgspec leaves it), else NOT_A_NUMBER; all but numbers read
    as NaN in numpy and as no number."""
    if type(value) is int or type(value) is float:
        return float(value)
    return NAN if value is MISSING else None if value is None else NOT_A_NUMBER


def dig(value: Any, keys: Iterable[str]) -> Any:
    """The value at `keys` inside nested objects, or MISSING when a step is missing or not an object."""
    for key in keys:
        if type(value) is not dict:
            return MISSING
        value = value.get(key, MISSING)
    return value


def put(obj: Any, keys: Path, value: Any) -> None:
    """Set the value at `keys` inside a dict whose objects on the way are there (a value was read there)."""
    parent = dig(obj, keys[:-1])
    if type(parent) is dict:
        parent[keys[-1]] = value


class Layout:
    """The record type of a set of field paths: one struct field per distinct top-level key."""

    def __init__(self, paths: Iterable[Path], numbers: Iterable[str] = ()) -> None:
        self.tops = tuple(sorted({path[0] for path in paths} | set(numbers)))
        self.numbers = frozenset(numbers)
        self.attrs = {top: f"f{i}" for i, top in enumerate(self.tops)}
        attrs = self.attrs

        def get(record: Any, key: str, default: Any = None) -> Any:
            attr = attrs.get(key)
            value = MISSING if attr is None else getattr(record, attr)
            return default if value is MISSING else value

        self.record: type[msgspec.Struct] = msgspec.defstruct(
            "Record",
            [
                (attr, float | None, NAN) if top in self.numbers else (attr, Any, MISSING)
                for top, attr in attrs.items()
            ],
            rename={attr: top for top, attr in attrs.items()},
            namespace={"get": get},
            gc=False,  # decoded JSON holds no reference cycles
        )
        self.decoder = msgspec.json.Decoder(self.record)

    def from_dict(self, obj: dict[str, Any]) -> Any:
        """The record of an object decoded some other way (orjson)."""
        return self.record(
            *[
                as_number(obj.get(top, MISSING)) if top in self.numbers else obj.get(top, MISSING)
                for top in self.tops
            ]
        )

    def getter(self, path: Path | str) -> Callable[[Any], Any]:
        """A C-speed getter for a top-level field (MISSING where absent); longer paths dig in dicts."""
        top, *rest = as_path(path)
        attr = operator.attrgetter(self.attrs[top])
        if not rest:
            return attr
        keys = tuple(rest)
        return lambda record: dig(attr(record), keys)

    def setter(self, path: Path) -> Callable[[Any, Any], None]:
        """Sets the value at `path` in a record where a value was read."""
        attr, rest = self.attrs[path[0]], path[1:]
        if not rest:
            return lambda record, value: setattr(record, attr, value)
        return lambda record, value: put(getattr(record, attr), rest, value)

    def key_getter(self, paths: list[Path]) -> Callable[[Any], tuple[Any, ...]] | None:
        """One C call from a record to the tuple of its values at `paths`; None unless all are top-level."""
        if len(paths) < 2 or any(len(p) > 1 for p in paths):
            return None
        return operator.attrgetter(*(self.attrs[p[0]] for p in paths))


@lru_cache(maxsize=64)
def layout_for(paths: tuple[Path, ...], numbers: tuple[str, ...] = ()) -> Layout:
    """One layout (one struct type) per set of paths, shared by the parser and the classifier."""
    return Layout(paths, numbers)
