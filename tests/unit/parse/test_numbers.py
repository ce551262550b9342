"""Declared `number` fields: their numeric strings read as numbers, everything else as it is."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.parse import Parser
from slotail.parse.numbers import number_of

T0 = "2026-02-19T09:00:00.412Z"


def decimal_oracle(text: str) -> int | float | None:
    """The rule, written independently: a mantissa of ASCII digits with one optional sign and point,
    an optional exponent with one optional sign; read by `decimal`, finite as a double."""
    if not text or set(text) - set("0123456789+-.eE"):
        return None
    mantissa, e, exponent = text.lower().partition("e")
    if e and (not exponent.lstrip("+-").isdigit() or len(exponent) - len(exponent.lstrip("+-")) > 1):
        return None
    digits = mantissa.lstrip("+-")
    if len(mantissa) - len(digits) > 1 or not digits.replace(".", "", 1).isdigit():
        return None
    value = Decimal(text)
    if not e and "." not in text and -(2**63) <= int(value) <= 2**64 - 1:
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("503", 503),
        ("0.300", 0.3),
        ("-1", -1),
        ("+2", 2),
        ("007", 7),
        ("1e3", 1000.0),
        ("2.5E-3", 0.0025),
        (".5", 0.5),
        ("5.", 5.0),
        ("18446744073709551615", 2**64 - 1),
        ("18446744073709551616", 1.8446744073709552e19),  # beyond 64 bits: a float
        ("-", None),  # nginx's `$upstream_response_time` with no upstream
        ("0.004, 0.002", None),  # two upstreams
        ("", None),
        (" 5", None),
        ("5 ", None),
        ("1_000", None),
        ("inf", None),
        ("NaN", None),
        ("1e999", None),  # overflows a double
        ("٣", None),  # not ASCII
        ("0x1F", None),
    ],
)
def test_a_numeric_string_is_a_decimal_number_in_ascii(text: str, number: float | None) -> None:
    """Sign, digits, optional fraction and exponent; ints stay ints within 64 bits; the rest is not one."""
    got = number_of(text)
    assert got == number and type(got) is type(number)


@settings(max_examples=500)
@given(
    st.one_of(
        st.text(max_size=12), st.from_regex(r"\A[+-]?[0-9]{0,22}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,4})?\Z")
    )
)
def test_the_rule_agrees_with_an_independent_reading(text: str) -> None:
    """Any string: the same number (and int/float) as a reading through `decimal`, or None for both."""
    expected, got = decimal_oracle(text), number_of(text)
    assert got == expected and type(got) is type(expected)


def lines(*objects: dict[str, object]) -> list[bytes]:
    return [json.dumps({"timestamp": T0, **o}).encode() for o in objects]


@pytest.mark.parametrize("layout", [None, ["status", "upstream.time", "other"]])
def test_declared_fields_hold_numbers_and_the_rest_is_left_alone(layout: list[str] | None) -> None:
    """In declared fields numeric strings become numbers (top-level and nested, records and dicts
    alike); non-numeric strings and undeclared fields stay as they are."""
    parser = Parser(fields=layout, coerce=["status", "upstream.time"])
    batch = parser.parse(
        lines(
            {"status": "503", "upstream": {"time": "0.300"}, "other": "7"},
            {"status": 200, "upstream": {"time": "-"}, "other": 7},
            {"status": "oops", "upstream": "0.5"},
        )
    )
    got = [(e.get("status"), e.get("upstream"), e.get("other")) for e in batch.events]
    assert got[0] == (503, {"time": 0.3}, "7")
    assert got[1] == (200, {"time": "-"}, 7)
    assert got[2][:2] == ("oops", "0.5")
    assert type(got[0][0]) is int


def test_without_a_declaration_numeric_strings_stay_strings() -> None:
    """Nothing is converted unless the config declares the field."""
    [event] = Parser(fields=["status"]).parse(lines({"status": "503"})).events
    assert event.get("status") == "503"
