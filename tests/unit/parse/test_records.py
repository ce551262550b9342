"""The record path (msgspec, a batch at a time) against the reference (orjson, line by line).

For any lines, a parser with a layout must keep the same lines, with the same
timestamps, the same values (and types) in every field it reads, and count the
same invalid lines under the same reasons, as the parser without one.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from slotail.parse import ParsedBatch, Parser
from slotail.parse.record import MISSING, as_number
from slotail.sources.lines import LineBlock
from tests.unit.parse.test_parser import BOM, any_line, json_values

FIELDS = ["event", "status", "sli.code", "latency"]
COERCE = ["status", "sli.code"]  # declared `number`: numeric strings read as numbers
NUMERIC_STRINGS = st.sampled_from(
    ["503", "0.300", "-7", "1e3", "-", "1e999", " 7", "18446744073709551616", "٣"]
)
TOPS = ["event", "latency", "sli", "status", "timestamp"]

# Text that msgspec and orjson may read differently, spliced into otherwise valid lines.
TRAPS = [
    b"1e400",
    b"-1E+400",
    b"1.5e309",
    b"1e-400",
    b"123456789012345678901234567890",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b'"\\ud800"',
    b'"\\udfff"',
    b'"\xff"',
    b'"\xed\xa0\x80"',
    b'"\xc0\x80"',
    b'"\x00"',
    b'"a\tb"',
    b"NaN",
    b"Infinity",
    b"[" * 1100 + b"]" * 1100,
    b"[" * 1000 + b"]" * 1000,
    b'"5e252"',
    b"true",
    b'{"a":1,"a":2}',
    b"01",
    b"1.",
    b'"\\u0000"',
]


def _doc(fields: dict[str, Any], trap: bytes, where: str) -> bytes:
    """A JSON object line with `trap` as the value of a read or an unread field."""
    body = json.dumps(fields)[1:-1]
    key = {"read": "status", "unread": "other", "nested": "sli"}[where]
    value = b'{"code": ' + trap + b"}" if where == "nested" else trap
    parts = [p for p in (body.encode(), b'"' + key.encode() + b'": ' + value) if p]
    return b"{" + b", ".join(parts) + b"}"


objects = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.one_of(
            st.integers(1_700_000_000_000, 1_800_000_000_000),
            st.sampled_from(["2026-02-19T09:00:00.412Z", "2026-02-19T09:00:00.41Z", "2026-02-30T09:00:00Z"]),
            json_values,
        ),
        "event": st.sampled_from(["a", "b"]) | json_values,
        "status": NUMERIC_STRINGS | st.integers(100, 599) | json_values,
        "sli": st.fixed_dictionaries({}, optional={"code": NUMERIC_STRINGS | json_values}) | json_values,
        "latency": st.floats(0, 1e4) | st.integers(0, 10**4) | json_values,
        "noise": json_values,
    },
)
trapped = st.builds(_doc, objects, st.sampled_from(TRAPS), st.sampled_from(["read", "unread", "nested"]))
lines = st.one_of(
    objects.map(lambda o: json.dumps(o).encode()),
    trapped,
    any_line,
    st.tuples(objects, objects).map(lambda p: (json.dumps(p[0]) + json.dumps(p[1])).encode()),  # two in one
    st.tuples(objects, objects).map(lambda p: (json.dumps(p[0]) + " " + json.dumps(p[1])).encode()),
    objects.map(lambda o: (" " + json.dumps(o) + " \r").encode()),
    objects.map(lambda o: BOM + json.dumps(o).encode()),
    objects.map(lambda o: json.dumps(o).encode() + b"\r"),
    st.just(b'{"timestamp": 1771491600000, "sli": {"code": 1}'),  # does not close its object
    st.just(b'{"timestamp": 1771491600000, "sli": [1,'),
    st.just(b"2]}"),
)


def seen(batch: ParsedBatch, numbers: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """Each kept line's timestamp and the repr of its values at the read fields (`numbers` as a
    record holds them: a float, or NaN)."""
    read = [
        {top: as_number(e.get(top, MISSING)) if top in numbers else e.get(top, MISSING) for top in TOPS}
        for e in batch.events  # a record's or a dict's `get`
    ]
    return [(int(ts), repr(values)) for ts, values in zip(batch.ts_us, read, strict=True)]


def check(batch_lines: list[bytes]) -> None:
    reference = Parser().parse(batch_lines)
    records = Parser(fields=FIELDS).parse(batch_lines)
    assert records.invalid == reference.invalid
    assert seen(records) == seen(reference)
    floats = Parser(fields=FIELDS, numbers=["latency"]).parse(batch_lines)  # read as a number only
    assert floats.invalid == reference.invalid
    assert seen(floats, ("latency",)) == seen(reference, ("latency",))  # None or NaN: no number
    coerced = Parser(coerce=COERCE).parse(batch_lines)
    assert coerced.invalid == reference.invalid
    assert seen(Parser(fields=FIELDS, coerce=COERCE).parse(batch_lines)) == seen(coerced)
    if not any(b"\n" in line for line in batch_lines):  # as a worker reads them: a cut of a block
        data = b"\n".join([b'{"timestamp": 1771491600000, "x": 1e400}', *batch_lines, b"{"]) + b"\n"
        block, _ = LineBlock.split(data, last=True, max_line=len(data))
        cut = Parser(fields=FIELDS).parse(block.cut(1, 1 + len(batch_lines)))
        assert cut.invalid == reference.invalid
        assert seen(cut) == seen(reference)


@settings(max_examples=int(os.environ.get("SLOTAIL_FUZZ_EXAMPLES", 400)), deadline=None)
@given(st.lists(lines, max_size=40))
@example([b'{"timestamp": 1771491600000, "sli": [1,', b"2]}", b'{"timestamp": 1771491600000}'])
@example([b'{"timestamp": 1771491600000, "x": 1e400}', b'{"timestamp": 1771491600000, "x": "5e252"}'])
@example([b'{"timestamp": 1700000000000, "latency": null}', b'{"timestamp": 1700000000000, "latency": "9"}'])
@example([b'{"timestamp": 1771491600000}{"timestamp": 1771491600001}', b"", b'{"timestamp": 1771491600002}'])
@example([b'{"timestamp": 1771491600000, "status": "503", "sli": {"code": "0.300"}}'])
def test_records_keep_what_the_reference_keeps_with_the_same_values_and_reasons(
    batch_lines: list[bytes],
) -> None:
    check(batch_lines)


@settings(max_examples=100, deadline=None)
@given(st.lists(trapped, min_size=1, max_size=30), st.lists(objects, max_size=30), st.randoms())
def test_traps_among_many_good_lines(traps: list[bytes], good: list[dict[str, Any]], rng: Any) -> None:
    """Long runs of good lines with traps here and there: the runs msgspec decodes at once are cut
    at each trap exactly."""
    batch_lines = [json.dumps(o).encode() for o in good] + traps
    rng.shuffle(batch_lines)
    check(batch_lines)
