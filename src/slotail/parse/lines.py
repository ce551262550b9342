"""Parse raw lines into JSON objects (or records of the fields a config reads) with a timestamp in µs.

Two ways to the same result. Line by line, orjson decodes each line into a dict
(`decode_line`): this is the reference, and what every questionable line gets.
With a `Layout`, a batch goes to msgspec in a few calls instead: cheap C-speed
scans first send every line msgspec could read differently from orjson (not
shaped `{...}`, invalid UTF-8, digit runs that may be out of range) to
`decode_line`, and a line msgspec refuses goes there too, so what comes out is
what the reference gives (tests/unit/parse/test_records.py checks it by fuzzing).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import compress
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import numpy.typing as npt
import orjson

from slotail.parse.numbers import Coercion
from slotail.parse.record import INT_MAX, INT_MIN, MISSING, Layout, dig, layout_for
from slotail.parse.timestamps import BAD_US, MISSING_US, TimeReader
from slotail.paths import Path, as_path
from slotail.sources.lines import LineBlock

if TYPE_CHECKING:
    from slotail.parse.envelope import Envelope

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
BAD_ENVELOPE = "bad_envelope"  # with a configured envelope (docker, cri): a line not in its shape
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
    BAD_ENVELOPE,
)

# Scans of a line or a batch read it translated: digits and signs as "0", "." kept, exponent marks as
# "e", what may come before a JSON number (`:`, `,`, `[`, blanks) as ":", bytes beyond ASCII as "h",
# newlines as "n", the rest as "x". An integer beyond 64 bits shows as a run of 20 zeros or more (other
# runs, as in dashed ids, only cost their line a second decode); a number that may overflow a double
# (1e400, 1.5E+400), which msgspec skips in a field it does not read where orjson refuses the line, as
# ":", digits and dots, "e", three digits or more.
LONG_RUN = b"0" * 20


def _scan_table() -> bytes:
    table = bytearray(b"x" * 128 + b"h" * 128)
    for chars, mark in ((b"0123456789+-", 48), (b".", 46), (b"eE", 101), (b":,[ \t\r", 58), (b"\n", 110)):
        for char in chars:
            table[char] = mark
    return bytes(table)


NUMBER_SHAPES = _scan_table()
BIG_EXPONENT, NON_ASCII = b"e000", b"h"
OPEN, CLOSE, CR = ord("{"), ord("}"), ord("\r")
MAX_DEPTH = 1024  # orjson's nesting limit


class ParsedBatch(msgspec.Struct):
    """The objects of one batch that parsed, their event times, and the rest counted by reason."""

    events: list[Any] = msgspec.field(default_factory=list)  # dicts, or records of a `Layout`
    ts_us: npt.NDArray[np.int64] = msgspec.field(default_factory=lambda: np.empty(0, np.int64))
    invalid: Counter[str] = msgspec.field(default_factory=Counter)

    @property
    def parsed(self) -> int:
        return len(self.events)


def field_getter(path: Path | str) -> Callable[[dict[str, Any]], Any]:
    """A fast getter for a path; returns a sentinel when any step is missing."""
    first, *rest = as_path(path)
    if not rest:
        return lambda obj: obj.get(first, MISSING)

    keys = tuple(rest)
    return lambda obj: dig(obj.get(first, MISSING), keys)  # `obj` a dict or a record


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
    return LONG_RUN in data.translate(NUMBER_SHAPES)


def decode_line(line: bytes, invalid: Counter[str]) -> dict[str, Any] | None:
    """The reference: one line's object, or None when it is blank or counted invalid (by reason)."""
    if _long_digits(line) and beyond_64_bits(line):
        invalid[BIG_INT] += 1
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        obj = _retry(line, exc, invalid)
        if obj is MISSING:
            return None
    if type(obj) is not dict:
        invalid[NOT_OBJECT] += 1
        return None
    return obj


Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_BYTE_AT = re.compile(r"\(byte (\d+)\)$")
_ITEM_AT = re.compile(r"at `\$\[(\d+)\]")


def _plain(block: LineBlock) -> Bools:
    """Lines msgspec reads as orjson does: shaped `{...}` (a CR may end them), valid UTF-8, no number
    that may be out of range, not nested too deep. Being shaped so, no object can run from one line
    into the next: `}` then `{` is never valid inside one, so a line that does not close its object
    fails at the next line's first byte."""
    buf, starts, ends = block.buf, block.starts, block.ends
    view = np.frombuffer(buf, np.uint8)
    if not len(view) or not len(starts):
        return np.zeros(len(starts), np.bool_)
    top = len(view) - 1
    first, last = view[np.minimum(starts, top)], view[np.maximum(ends - 1, 0)]
    before = view[np.maximum(ends - 2, 0)]
    closed = (last == CLOSE) | ((last == CR) & (before == CLOSE) & (ends - starts >= 3))
    plain: Bools = (ends - starts >= 2) & (first == OPEN) & closed
    low = int(starts[0])
    plain[_suspects(bytes(buf[low : int(ends[-1])]).translate(NUMBER_SHAPES), starts - low, block)] = False
    for i in np.flatnonzero(ends - starts > MAX_DEPTH).tolist():  # only a long line can nest too deep
        line = block.line(i)
        if line.count(b"[") + line.count(b"{") > MAX_DEPTH:
            plain[i] = False  # msgspec's own limit follows Python's recursion limit, not orjson's
    return plain


def _words(shapes: bytes, word: bytes) -> Int64s:
    """Every position of a 4-byte `word` in `shapes` (numpy over the 4 alignments: no byte loop)."""
    pattern, found = int.from_bytes(word, "little"), [np.empty(0, np.int64)]
    for k in range(min(4, len(shapes) - 3)):
        words = np.frombuffer(shapes, "<u4", count=(len(shapes) - k) // 4, offset=k)
        found.append(np.flatnonzero(words == pattern) * 4 + k)
    return np.concatenate(found)


def _suspects(shapes: bytes, starts: Int64s, block: LineBlock) -> Int64s:
    """Lines of a scanned batch that msgspec may read otherwise than orjson: invalid UTF-8, or a
    number that may be beyond what a double (or 64 bits) holds."""
    suspects = []
    at = shapes.find(NON_ASCII)  # rare: one find a line that holds any
    while at >= 0:
        i = int(np.searchsorted(starts, at, "right")) - 1
        try:
            block.line(i).decode("utf-8")
        except UnicodeDecodeError:
            suspects.append(i)
        at = shapes.find(NON_ASCII, int(starts[i + 1]) if i + 1 < len(starts) else len(shapes))
    view = np.frombuffer(shapes, np.uint8)
    # 20 digits in a row hold 4 aligned words of digits (16 digits in a row are enough to look closer).
    digits = np.frombuffer(shapes, "<u4", count=len(shapes) // 4) == int.from_bytes(b"0000", "little")
    runs = np.flatnonzero(digits[:-3] & digits[1:-2] & digits[2:-1] & digits[3:]) * 4
    # `e` and three digits, after digits and dots that follow a `:` (a number, not a word like `5e252`);
    # a mantissa of 32 or more is let through as a number too.
    marks = _words(shapes, BIG_EXPONENT)
    if len(marks):
        before = view[np.clip(marks[:, None] - np.arange(1, 33), 0, None)]
        inside = (before == ord("0")) | (before == ord("."))
        first_other = np.argmax(~inside, axis=1)
        preceding = before[np.arange(len(marks)), first_other]
        marks = marks[(preceding == ord(":")) | inside.all(axis=1)]
    found = np.concatenate((runs, marks))
    lines_at = np.searchsorted(starts, found, "right") - 1
    return np.concatenate((np.array(suspects, np.int64), lines_at))


def _culprit(exc: Exception, starts: Int64s, first: int, last: int) -> int | None:
    """The line (of lines first..last - 1) a msgspec error is about, or None when it does not say."""
    message = str(exc)
    if found := _ITEM_AT.search(message):
        return min(first + int(found[1]), last - 1)
    if found := _BYTE_AT.search(message):
        at = int(starts[first]) + int(found[1])
        i = int(np.searchsorted(starts, at, "right")) - 1
        if at == starts[i] and i > first:
            i -= 1  # the line before did not close its object: the next one's `{` is where it failed
        return min(max(i, first), last - 1)
    return None


class Parser:
    """Turns raw lines into timestamped objects; never raises on a line's content.

    Without `fields`, events are whole objects (dicts). With them, events are
    records of those fields (and the timestamp) of a shared `Layout`; top-level
    `numbers` among them are read as floats (NaN where not a number). `time`
    reads timestamp values; the numeric strings of the `coerce` fields become
    numbers; an `envelope` unwraps each raw line first.
    """

    def __init__(
        self,
        timestamp_field: Path | str = ("timestamp",),
        naive_utc: bool = False,
        fields: Sequence[Path | str] | None = None,
        numbers: Sequence[str] = (),
        *,
        time: TimeReader | None = None,
        coerce: Sequence[Path | str] = (),
        envelope: Envelope | None = None,
    ) -> None:
        stamp, declared = as_path(timestamp_field), [as_path(p) for p in coerce]
        self.time = time if time is not None else TimeReader(naive_utc)
        self.envelope = envelope
        self.layout: Layout | None = None
        self._get_ts = field_getter(stamp)
        if fields is not None:
            paths = {*map(as_path, fields), stamp, *declared}
            self.layout = layout_for(tuple(sorted(paths)), tuple(sorted(numbers)))
            self._get_ts = self.layout.getter(stamp)
        self.coercion = Coercion(declared, self.layout) if declared else None

    def parse(self, lines: list[bytes] | LineBlock, too_long: int = 0, source: str = "") -> ParsedBatch:
        """A batch's events and invalid lines; `source` (a file) keeps an envelope's pieces apart."""
        batch = ParsedBatch()
        if too_long:
            batch.invalid[TOO_LONG] += too_long
        if self.envelope is not None:
            block = lines if isinstance(lines, LineBlock) else LineBlock.join(lines)
            lines = self.envelope.unwrap(block, source, batch.invalid)
        self._parse(lines, batch)
        return batch

    def finish(self, source: str) -> ParsedBatch:
        """The lines an envelope still holds in pieces for `source` (a file that ended), each parsed whole."""
        batch = ParsedBatch()
        if self.envelope is not None:
            self._parse(self.envelope.finish(source), batch)
        return batch

    def _parse(self, lines: list[bytes] | LineBlock, batch: ParsedBatch) -> None:
        if self.layout is None:
            objects = self._objects(lines if isinstance(lines, list) else lines.lines(), batch.invalid)
        else:
            objects = self._records(lines if isinstance(lines, LineBlock) else LineBlock.join(lines), batch)
        self._stamp(objects, batch)
        if self.coercion is not None:
            self.coercion.apply(batch.events)

    def _objects(self, lines: list[bytes], invalid: Counter[str]) -> list[Any]:
        """Every line through the reference decoder."""
        decoded = (decode_line(line, invalid) for line in lines)
        return [obj for obj in decoded if obj is not None]

    def _records(self, block: LineBlock, batch: ParsedBatch) -> list[Any]:
        """Runs of plain lines decoded by msgspec in one call each, the rest line by line."""
        assert self.layout is not None
        layout, invalid, records = self.layout, batch.invalid, list[Any]()
        starts, ends = block.starts, block.ends
        view, decode = memoryview(block.buf), self.layout.decoder.decode_lines

        def one(i: int) -> None:
            obj = decode_line(block.line(i), invalid)
            if obj is not None:
                records.append(layout.from_dict(obj))

        todo: list[tuple[int, int]] = []  # (first, end) of a run of lines, or (line, -1); in order
        start = 0
        for i in np.flatnonzero(~_plain(block)).tolist():
            todo += [(start, i), (i, -1)]
            start = i + 1
        todo.append((start, len(block)))
        todo.reverse()  # a stack: the next piece last
        while todo:
            first, last = todo.pop()
            if last < 0:
                one(first)
                continue
            if first >= last:
                continue
            try:
                got = decode(view[starts[first] : ends[last - 1]])
            except (msgspec.DecodeError, RecursionError) as exc:
                bad = _culprit(exc, starts, first, last)
                if bad is None:
                    todo.extend((i, -1) for i in range(last - 1, first - 1, -1))
                else:
                    todo += [(bad + 1, last), (bad, -1), (first, bad)]
                continue
            if len(got) == last - first:
                records += got
            else:  # more objects than lines: let each line speak for itself
                todo.extend((i, -1) for i in range(last - 1, first - 1, -1))
        return records

    def _stamp(self, objects: list[Any], batch: ParsedBatch) -> None:
        """Keep the objects with a usable timestamp, with it in µs; count the rest."""
        us = self.time.many(list(map(self._get_ts, objects)))
        keep = us >= 0
        if not keep.all():
            for reason, count in (
                (NO_TIMESTAMP, np.count_nonzero(us == MISSING_US)),
                (BAD_TIMESTAMP, np.count_nonzero(us == BAD_US)),
            ):
                if count:
                    batch.invalid[reason] += int(count)
            objects = list(compress(objects, keep))
        batch.events = objects
        batch.ts_us = us[keep]
