"""Parser: raw line bytes -> timestamped objects; every bad line counted under its reason, never raised."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.parse import Parser
from slotail.parse.lines import (
    BAD_JSON,
    BAD_TIMESTAMP,
    BAD_UTF8,
    NO_TIMESTAMP,
    NON_FINITE,
    NOT_OBJECT,
    NUL_BYTE,
    REASONS,
    TOO_DEEP,
    TOO_LONG,
)

BOM = b"\xef\xbb\xbf"
ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
T0 = "2026-02-19T09:00:00.412Z"
T0_US = (datetime(2026, 2, 19, 9, 0, 0, 412_000, tzinfo=UTC) - EPOCH) // ONE_US
MAX_US = (datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC) - EPOCH) // ONE_US


def line(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def is_blank(raw: bytes) -> bool:
    """The spec's "empty line": nothing but ASCII whitespace once a leading BOM is dropped."""
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    return all(byte in ASCII_WHITESPACE for byte in raw)


def test_a_json_object_with_a_timestamp_is_parsed_with_its_event_time() -> None:
    """The object comes back as parsed, with its timestamp in epoch microseconds."""
    batch = Parser().parse([line(event="booking_created_atomic", timestamp=T0)])
    assert batch.events == [{"event": "booking_created_atomic", "timestamp": T0}]
    assert batch.ts_us.tolist() == [T0_US]
    assert batch.parsed == 1
    assert not batch.invalid


def test_epoch_millisecond_and_iso_lines_mix_in_one_batch() -> None:
    """Seed 000's log shape: epoch ms on request lines, ISO 8601 on domain events."""
    batch = Parser().parse(
        [line(event="http_request_completed", timestamp=1_771_491_600_412), line(timestamp=T0)]
    )
    assert batch.ts_us.tolist() == [T0_US, T0_US]


def test_a_byte_order_mark_before_a_line_is_ignored() -> None:
    """A UTF-8 BOM (as editors write at the start of a file) does not make the line invalid."""
    batch = Parser().parse([BOM + line(timestamp=T0, n=1)])
    assert batch.events == [{"timestamp": T0, "n": 1}]
    assert not batch.invalid


def test_crlf_line_endings_are_accepted() -> None:
    """A line split on LF from a CRLF file keeps its CR; it still parses."""
    batch = Parser().parse([line(timestamp=T0) + b"\r", BOM + line(timestamp=T0) + b"\r"])
    assert batch.parsed == 2
    assert not batch.invalid


def test_a_duplicate_key_keeps_its_last_value() -> None:
    """Duplicate keys are not an error (RFC 8259 leaves it open): the last one wins, as in most parsers."""
    batch = Parser().parse([b'{"timestamp": "' + T0.encode() + b'", "status": 500, "status": 200}'])
    assert batch.events == [{"timestamp": T0, "status": 200}]
    assert not batch.invalid


@pytest.mark.parametrize("blank", [b"", b" ", b"\t\t", b"\r", b"  \r", BOM, BOM + b" \r"])
def test_empty_and_whitespace_lines_are_not_counted(blank: bytes) -> None:
    """An empty line is neither parsed nor invalid."""
    batch = Parser().parse([blank, line(timestamp=T0), blank])
    assert batch.parsed == 1
    assert sum(batch.invalid.values()) == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", BAD_JSON),
        (b'{"timestamp": "' + T0.encode() + b'",}', BAD_JSON),  # trailing comma
        (b'{"timestamp": 1771491600} trailing', BAD_JSON),
        (b'{"timestamp": NaN}', NON_FINITE),
        (b'{"timestamp": 1771491600, "ms": Infinity}', NON_FINITE),
        (b'{"timestamp": 1771491600, "ms": -Infinity}', NON_FINITE),
        (b'{"timestamp": 1771491600, "ms": 1e999}', NON_FINITE),  # overflows a double
        (b'{"timestamp": 1771491600, "msg": "caf\xc3\xa9", "ms": NaN}', NON_FINITE),  # after a non-ASCII char
        (b'{"timestamp": 1771491600, "msg": "a\x00b"}', NUL_BYTE),
        (b"\x00" * 8, NUL_BYTE),
        (b'{"timestamp": 1771491600, "deep": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", TOO_DEEP),
        (b'{"a": ' * 5000, TOO_DEEP),
        (b'{"msg": "caf\xe9", "timestamp": "' + T0.encode() + b'"}', BAD_UTF8),  # Latin-1 byte in a string
        (b"\xff\xfe{}", BAD_UTF8),
        (b"\xed\xa0\x80", BAD_UTF8),  # an encoded surrogate is not UTF-8
        (b"[1, 2]", NOT_OBJECT),
        (b"42", NOT_OBJECT),
        (b'"2026-02-19T09:00:00Z"', NOT_OBJECT),
        (b"null", NOT_OBJECT),
        (b"true", NOT_OBJECT),
        (b'{"event": "x"}', NO_TIMESTAMP),
        (b"{}", NO_TIMESTAMP),
        (b'{"timestamp": null}', NO_TIMESTAMP),
        (b'{"Timestamp": "' + T0.encode() + b'"}', NO_TIMESTAMP),  # field names are case-sensitive
        (b'{"timestamp": "yesterday"}', BAD_TIMESTAMP),
        (b'{"timestamp": "2026-02-19T09:00:00"}', BAD_TIMESTAMP),  # naive
        (b'{"timestamp": "2026-02-30T09:00:00Z"}', BAD_TIMESTAMP),
        (b'{"timestamp": true}', BAD_TIMESTAMP),
        (b'{"timestamp": -5}', BAD_TIMESTAMP),
        (b'{"timestamp": [1771491600]}', BAD_TIMESTAMP),
        (b'{"timestamp": {"s": 1771491600}}', BAD_TIMESTAMP),
    ],
)
def test_each_bad_line_is_counted_under_its_reason(raw: bytes, reason: str) -> None:
    """One bad line: nothing parsed, one count under the right reason, and good lines around it unaffected."""
    batch = Parser().parse([line(timestamp=T0), raw, line(timestamp=T0)])
    assert batch.parsed == 2
    assert batch.invalid == Counter({reason: 1})


def test_over_long_lines_reported_by_the_source_are_counted_as_too_long() -> None:
    """The splitter drops over-long lines; the parser counts them under `too_long`."""
    batch = Parser().parse([line(timestamp=T0)], too_long=3)
    assert batch.invalid == Counter({TOO_LONG: 3})
    assert batch.parsed == 1


def test_naive_times_are_accepted_as_utc_when_configured() -> None:
    """`timestamp.naive: utc` reads a naive time as UTC instead of counting it as a bad timestamp."""
    raw = [line(timestamp="2026-02-19T09:00:00.412")]
    assert Parser().parse(raw).invalid == Counter({BAD_TIMESTAMP: 1})
    assert Parser(naive_utc=True).parse(raw).ts_us.tolist() == [T0_US]


def test_a_dotted_timestamp_field_reads_a_nested_object() -> None:
    """`sli.timestamp` is the `timestamp` key inside the `sli` object."""
    parser = Parser("sli.timestamp")
    batch = parser.parse(
        [
            line(sli={"timestamp": T0}),
            line(timestamp=T0),  # top-level only: missing
            line(sli="2026-02-19T09:00:00Z"),  # `sli` is not an object: missing
            line(sli={"timestamp": None}),
            line(sli={"timestamp": "soon"}),
            json.dumps({"sli.timestamp": T0}).encode(),  # a key with a dot in it is not the nested path
        ]
    )
    assert batch.ts_us.tolist() == [T0_US]
    assert batch.invalid == Counter({NO_TIMESTAMP: 4, BAD_TIMESTAMP: 1})


def test_parsed_objects_keep_their_input_order() -> None:
    """Events and their timestamps stay aligned and in line order."""
    raw = [line(timestamp=1_771_491_600 + i, n=i) for i in range(5)]
    batch = Parser().parse([raw[0], b"junk", raw[1], raw[2], b"", raw[3], raw[4]])
    assert [e["n"] for e in batch.events] == [0, 1, 2, 3, 4]
    assert batch.ts_us.tolist() == [(1_771_491_600 + i) * 10**6 for i in range(5)]


# --- the acceptance property: any byte string is parsed or counted invalid -------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
timestamps = st.one_of(
    json_values,
    st.integers(-(10**15), 10**15),
    st.floats(),
    st.datetimes(min_value=datetime(1960, 1, 1), timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1960, 1, 1)).map(lambda d: d.isoformat()),
)
objects = st.dictionaries(
    st.sampled_from(["timestamp", "event", "sli", "x"]), json_values, max_size=3
).flatmap(lambda d: st.one_of(st.just(d), timestamps.map(lambda t: {**d, "timestamp": t})))
json_lines = objects.map(lambda o: json.dumps(o).encode()) | json_values.map(lambda v: json.dumps(v).encode())
any_line = st.one_of(
    st.binary(max_size=64),
    json_lines,
    st.sampled_from([b"", b" ", b"\r", b"\t \x0b\x0c", BOM, BOM + b"{}"]),
    st.tuples(st.sampled_from([b"", BOM]), json_lines, st.sampled_from([b"", b"\r", b" \r"])).map(b"".join),
    json_lines.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut])),  # truncated JSON
)


def check_accounting(lines: list[bytes], parser: Parser) -> None:
    batch = parser.parse(lines)
    blank = sum(1 for raw in lines if is_blank(raw))
    assert batch.parsed + sum(batch.invalid.values()) + blank == len(lines)
    assert set(batch.invalid) <= set(REASONS)
    assert all(count > 0 for count in batch.invalid.values())
    assert len(batch.ts_us) == len(batch.events)
    assert all(type(e) is dict for e in batch.events)
    assert all(0 <= ts <= MAX_US for ts in batch.ts_us)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256))
def test_any_byte_string_is_parsed_or_counted_invalid_never_raised(raw: bytes) -> None:
    """A single line of any bytes is accounted exactly once: parsed, invalid, or blank (not counted)."""
    check_accounting([raw], Parser())


@settings(max_examples=200, deadline=None)
@given(st.lists(any_line, max_size=20), st.sampled_from(["timestamp", "sli.timestamp"]), st.booleans())
def test_any_list_of_lines_is_fully_accounted_for(lines: list[bytes], field: str, naive_utc: bool) -> None:
    """parsed + sum(invalid) + blank == number of lines, for any lines, field path and naive-time policy."""
    check_accounting(lines, Parser(field, naive_utc))


@settings(max_examples=100, deadline=None)
@given(st.lists(any_line, max_size=10), st.lists(any_line, max_size=10))
def test_parsing_two_batches_equals_parsing_them_together(first: list[bytes], second: list[bytes]) -> None:
    """A line's fate does not depend on its batch: counts and events add up across batches."""
    parser = Parser()
    a, b, both = parser.parse(first), parser.parse(second), parser.parse(first + second)
    assert both.events == a.events + b.events
    assert both.ts_us.tolist() == a.ts_us.tolist() + b.ts_us.tolist()
    assert both.invalid == a.invalid + b.invalid


@given(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from(["id", "nested"]),
    st.booleans(),
)
def test_an_integer_beyond_64_bits_anywhere_makes_the_line_invalid_and_digits_in_strings_do_not(
    value: int, where: str, as_string: bool
) -> None:
    """orjson reads -2**63 .. 2**64-1 exactly; an integer literal outside that is counted, by its reason."""
    literal: object = str(value) if as_string else value
    doc = (
        {"timestamp": 1771491600123, "id": literal}
        if where == "id"
        else {
            "timestamp": 1771491600123,
            "nested": [{"deep": literal}],
        }
    )
    batch = Parser().parse([json.dumps(doc).encode()])
    beyond = not as_string and not -(2**63) <= value <= 2**64 - 1
    assert batch.invalid == ({"integer_beyond_64_bits": 1} if beyond else {})
    assert batch.parsed == (0 if beyond else 1)
