"""Event timestamps: ISO 8601 / RFC 3339 strings and epoch numbers to exact microseconds."""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from slotail.parse.record import MISSING
from slotail.parse.timestamps import (
    BAD_US,
    GROUP_MIN,
    MISSING_US,
    UNITS,
    FormatReader,
    TimeReader,
    parse_iso,
    parse_iso_many,
    text_us,
    to_epoch_us,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
LAST_OF_9999 = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def us(dt: datetime) -> int:
    """Microseconds since the epoch, by datetime arithmetic (independent of the parser)."""
    return (dt - EPOCH) // ONE_US


def utc(*args: int) -> int:
    return us(datetime(*args, tzinfo=UTC))


def zone(hours: int, minutes: int = 0) -> timezone:
    sign = -1 if hours < 0 else 1
    return timezone(sign * timedelta(hours=abs(hours), minutes=minutes))


# --- ISO 8601 strings ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-02-19T09:00:00Z", "2026-02-19t09:00:00z", "2026-02-19 09:00:00Z"])
def test_utc_designator_and_separators_give_the_same_instant(text: str) -> None:
    """`Z`/`z`, and `T`, `t` or a space between date and time, all read the same UTC instant."""
    assert parse_iso(text) == utc(2026, 2, 19, 9, 0, 0)


@pytest.mark.parametrize(
    ("text", "tz"),
    [
        ("2026-02-19T16:00:00+07:00", zone(7)),
        ("2026-02-19T03:30:00-0530", zone(-5, 30)),
        ("2026-02-19T14:00:00+05", zone(5)),
        ("2026-02-19T09:00:00+00:00", UTC),
        ("2026-02-19T09:00:00-00:00", UTC),
        ("2026-02-19T23:59:00+23:59", zone(23, 59)),
    ],
)
def test_offsets_in_every_iso_form_are_applied(text: str, tz: timezone) -> None:
    """`+HH:MM`, `-HHMM` and `+HH` offsets shift the local time to UTC (east is ahead of UTC)."""
    local = datetime.fromisoformat(text[:19]).replace(tzinfo=tz)
    assert parse_iso(text) == us(local)


def test_an_offset_east_of_utc_is_earlier_in_utc_than_the_same_wall_clock_in_utc() -> None:
    """16:00 at +07:00 is 09:00 UTC: seven hours before 16:00Z."""
    assert parse_iso("2026-02-19T16:00:00Z") - parse_iso("2026-02-19T16:00:00+07:00") == 7 * 3600 * 10**6


@pytest.mark.parametrize(
    ("fraction", "micros"),
    [
        (".1", 100_000),
        (".123", 123_000),
        (".123456", 123_456),
        (".123456789", 123_456),  # nanoseconds are truncated, not rounded
        (".999999999", 999_999),
        (".000001", 1),
        (",5", 500_000),  # ISO 8601 allows a comma
    ],
)
def test_fractions_are_read_to_the_microsecond_and_finer_digits_truncated(fraction: str, micros: int) -> None:
    """Milli-, micro- and nanosecond fractions; digits beyond the sixth are dropped."""
    base = utc(2026, 2, 19, 9, 0, 0)
    assert parse_iso(f"2026-02-19T09:00:00{fraction}Z") == base + micros
    assert parse_iso(f"2026-02-19T16:00:00{fraction}+07:00") == base + micros


def test_naive_times_are_rejected_by_default() -> None:
    """A time with neither `Z` nor an offset is ambiguous, so it is not a timestamp."""
    assert parse_iso("2026-02-19T09:00:00") is None
    assert parse_iso("2026-02-19T09:00:00.250") is None
    assert to_epoch_us("2026-02-19T09:00:00") is None


def test_naive_times_are_read_as_utc_when_asked() -> None:
    """With `naive_utc=True` a naive time is UTC (and aware times are unchanged)."""
    assert parse_iso("2026-02-19T09:00:00", naive_utc=True) == utc(2026, 2, 19, 9)
    assert parse_iso("2026-02-19T09:00:00.250", naive_utc=True) == utc(2026, 2, 19, 9) + 250_000
    assert to_epoch_us("2026-02-19T09:00:00", naive_utc=True) == utc(2026, 2, 19, 9)
    assert parse_iso("2026-02-19T16:00:00+07:00", naive_utc=True) == utc(2026, 2, 19, 9)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00Z",  # February 30th
        "2025-02-29T00:00:00Z",  # not a leap year
        "2026-13-01T00:00:00Z",  # month 13
        "2026-00-10T00:00:00Z",  # month 0
        "2026-02-00T00:00:00Z",  # day 0
        "2026-02-19T24:00:00Z",  # hour 24
        "2026-02-19T23:60:00Z",  # minute 60
        "2026-02-19T23:59:60Z",  # leap second
        "0000-01-01T00:00:00Z",  # year 0
    ],
)
def test_impossible_dates_and_times_are_rejected(text: str) -> None:
    """A date or time that does not exist on the calendar is not a timestamp."""
    assert parse_iso(text) is None


def test_february_29th_of_a_leap_year_is_a_real_date() -> None:
    """The impossible-date check does not reject real leap days."""
    assert parse_iso("2024-02-29T12:00:00Z") == utc(2024, 2, 29, 12)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-02-19",  # a date alone
        "2026-02-19T09:00:00.Z",  # a fraction with no digits
        "2026-02-19T09:00:00+25:00",  # offset hour out of range
        "2026-02-19T09:00:00+05:60",  # offset minute out of range
        "2026-02-19T09:00:00+5",  # one-digit offset
        "2026-02-19T09:00:00+05:3",  # truncated offset
        "2026-02-19T09:00:00Zjunk",  # trailing garbage
        "2026-02-19T09:00:00+07:00 ",  # trailing space
        " 2026-02-19T09:00:00Z",  # leading space
        "2026/02/19T09:00:00Z",  # wrong date separator
        "2026-02-19X09:00:00Z",  # wrong date-time separator
        "２０２６-02-19T09:00:00Z",  # non-ASCII digits
        "2026-02-19T09:00:00.１Z",  # non-ASCII digit in the fraction
        "2026-02-19T09:00:00+０７:00",  # non-ASCII digit in the offset
    ],
)
def test_malformed_strings_are_rejected(text: str) -> None:
    """Anything that is not a whole ISO 8601 date-time is None, never an exception."""
    assert parse_iso(text) is None


def test_instants_before_the_epoch_are_rejected() -> None:
    """Like negative epoch numbers, times before 1970-01-01T00:00:00Z are unusable."""
    assert parse_iso("1970-01-01T00:00:00Z") == 0
    assert parse_iso("1969-12-31T23:59:59.999999Z") is None
    assert parse_iso("1970-01-01T00:30:00+01:00") is None


def test_the_last_microsecond_of_year_9999_is_accepted() -> None:
    """The range ends at 9999-12-31T23:59:59.999999Z, inclusive."""
    assert parse_iso("9999-12-31T23:59:59.999999Z") == us(LAST_OF_9999)
    assert parse_iso("9999-12-31T23:59:59.999999-00:01") is None  # one minute later: year 10000


fixed_zones = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=200)
@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999),
        timezones=fixed_zones,
    )
)
def test_any_aware_isoformat_parses_to_its_exact_microsecond(dt: datetime) -> None:
    """Round trip: `parse_iso(dt.isoformat())` is the instant's exact epoch microseconds."""
    assume(EPOCH <= dt <= LAST_OF_9999)
    assert parse_iso(dt.isoformat()) == us(dt)
    assert to_epoch_us(dt.isoformat()) == us(dt)


@settings(max_examples=200)
@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)),
    st.text(alphabet="0123456789", max_size=6),
    st.sampled_from(["Z", "+00:00", "-0000", "+00"]),
)
def test_any_utc_time_with_nanosecond_digits_truncates_to_its_microsecond(
    naive: datetime, extra_digits: str, designator: str
) -> None:
    """`…SS.ffffff<more digits>Z` is the microsecond written, whatever follows the sixth digit."""
    text = f"{naive:%Y-%m-%dT%H:%M:%S}.{naive.microsecond:06d}{extra_digits}{designator}"
    assert parse_iso(text) == us(naive.replace(tzinfo=UTC))


# --- epoch numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_771_491_600, utc(2026, 2, 19, 9)),  # epoch seconds
        (1_771_491_600.5, utc(2026, 2, 19, 9) + 500_000),  # fractional seconds
        (1_771_491_600_123, utc(2026, 2, 19, 9) + 123_000),  # epoch milliseconds
        (1_771_491_600_123.0, utc(2026, 2, 19, 9) + 123_000),
        (1_771_491_600_123.5, utc(2026, 2, 19, 9) + 123_500),
        (0, 0),
        (0.0, 0),
    ],
)
def test_epoch_numbers_are_seconds_or_milliseconds(value: float, expected: int) -> None:
    """Numbers are epoch seconds, int or float; numbers of 1e11 and above are milliseconds."""
    assert to_epoch_us(value) == expected


def test_the_millisecond_threshold_is_1e11() -> None:
    """99_999_999_999 is seconds (year 5138); 100_000_000_000 is milliseconds (1973)."""
    assert to_epoch_us(99_999_999_999) == 99_999_999_999 * 10**6
    assert to_epoch_us(100_000_000_000) == 100_000_000_000 * 10**3
    assert to_epoch_us(99_999_999_999.0) == 99_999_999_999 * 10**6
    assert to_epoch_us(1e11) == 10**14


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        math.nan,
        math.inf,
        -math.inf,
        -1,
        -0.5,
        -1_771_491_600_123,
        10**24,  # nanoseconds beyond the year 9999
        1e300,
        sys.float_info.max,
        -sys.float_info.max,
        [1_771_491_600],
        {"seconds": 1_771_491_600},
        b"2026-02-19T09:00:00Z",
    ],
)
def test_unusable_values_give_none(value: object) -> None:
    """Booleans, null, NaN, infinities, negatives, out-of-range numbers and other types are unusable.

    The largest floats overflow to infinity when scaled to microseconds; they too are None, not an error.
    """
    assert to_epoch_us(value) is None


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_any_whole_epoch_second_below_the_threshold_is_exact(seconds: int) -> None:
    """An int below 1e11 is seconds, converted without any rounding."""
    assert to_epoch_us(seconds) == seconds * 10**6


@settings(max_examples=200)
@given(st.integers(min_value=100_000_000_000, max_value=99_999_999_999_999))
def test_any_whole_epoch_millisecond_at_or_above_the_threshold_is_exact(millis: int) -> None:
    """An int from 1e11 to below 1e14 is milliseconds, converted without any rounding."""
    assert to_epoch_us(millis) == millis * 10**3


# --- many at once: numpy for the common UTC shapes, `parse_iso` for the rest ---------------------

utc_texts = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).flatmap(
    lambda d: st.sampled_from(["seconds", "milliseconds", "microseconds"]).map(
        lambda spec: d.isoformat(timespec=spec) + "Z"
    )
)
shaped = st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?[Zz]\Z")
fraction_cut = utc_texts.map(lambda t: t[:-4] + "Z" if "." in t else t)  # `.fZ`, `.ffZ` ...


EDGES = [  # next to what is valid, field by field
    "2026-02-19T24:00:00Z",
    "2026-02-19T23:60:00.5Z",
    "2026-02-19T23:59:60.123Z",
    "2026-02-30T00:00:00Z",
    "2026-02-29T00:00:00.000001Z",
    "2024-02-29T00:00:00.000001Z",
    "2100-02-29T00:00:00Z",
    "2000-02-29T12:00:00Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z",
    "2026-13-01T00:00:00Z",
    "2026-00-01T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-02-19T09:00:00.Z",
    "2026-02-19t09:00:00Z",
    "2026-02-19T09:00:00z",
    "2026-02-19 09:00:00Z",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(utc_texts, shaped, fraction_cut, st.text(max_size=30)), max_size=40), st.booleans())
@example(EDGES, False)
def test_parsing_many_equals_parsing_each(texts: list[str], naive_utc: bool) -> None:
    """Any texts, each often enough that its length goes through numpy: the same as one by one
    (Feb 30, hour 24, second 60, year 0, non-digits, before 1970 included)."""
    texts = texts * GROUP_MIN  # so that every length's group reaches numpy
    want = [-1 if (v := text_us(t, naive_utc)) is None else v for t in texts]  # ISO, else an epoch string
    assert parse_iso_many(texts, naive_utc).tolist() == want


# --- epoch units: by magnitude, or as the config says --------------------------------------------

T_US = utc(2026, 2, 19, 9) + 123_456  # 2026-02-19T09:00:00.123456Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T_US // 10**6, T_US // 10**6 * 10**6),  # seconds
        (T_US // 1000, T_US // 1000 * 1000),  # milliseconds
        (T_US, T_US),  # microseconds
        (T_US * 1000 + 789, T_US),  # nanoseconds: the µs, truncated
        (float(T_US // 1000), T_US // 1000 * 1000),
        (T_US * 1000.0, T_US),
    ],
)
def test_epoch_numbers_of_each_unit_are_told_apart_by_magnitude(value: float, expected: int) -> None:
    """s < 1e11 <= ms < 1e14 <= µs < 1e17 <= ns: an instant of today reads the same in every unit."""
    assert to_epoch_us(value) == expected


def test_each_unit_starts_at_its_floor() -> None:
    """1e11 is the first millisecond value, 1e14 the first microsecond, 1e17 the first nanosecond."""
    assert to_epoch_us(10**11 - 1) == (10**11 - 1) * 10**6
    assert to_epoch_us(10**11) == 10**14
    assert to_epoch_us(10**14 - 1) == (10**14 - 1) * 1000
    assert to_epoch_us(10**14) == 10**14
    assert to_epoch_us(10**17 - 1) == 10**17 - 1
    assert to_epoch_us(10**17) == 10**14
    assert to_epoch_us(2**64 - 1) == (2**64 - 1) // 1000  # beyond int64, still nanoseconds in range


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1_771_491_600, "ms", 1_771_491_600_000),  # 1970-01-21, as the config says
        (1_771_491_600_123, "s", None),  # seconds far beyond the year 9999
        (1_771_491_600_123, "us", 1_771_491_600_123),
        (1_771_491_600, "ns", 1_771_491),
        (1_771_491_600.5, "ms", 1_771_491_600_500),
        ("1771491600123", "ms", 1_771_491_600_123_000),
        ("1771491600.5", "us", 1_771_491_600),
    ],
)
def test_a_given_unit_overrides_the_magnitude(value: object, unit: str, expected: int | None) -> None:
    """`timestamp: {unit: ...}` reads every epoch number (and epoch string) in that unit."""
    assert to_epoch_us(value, unit=unit) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1771491600", utc(2026, 2, 19, 9)),
        ("1771491600.123", utc(2026, 2, 19, 9) + 123_000),  # nginx $msec
        ("1771491600.1234567", utc(2026, 2, 19, 9) + 123_456),  # truncated to the µs, as ISO fractions
        ("1771491600123", utc(2026, 2, 19, 9) + 123_000),  # milliseconds by magnitude
        ("1771491600123456789", utc(2026, 2, 19, 9) + 123_456),  # nanoseconds
        ("0", 0),
    ],
)
def test_epoch_numbers_written_as_strings_are_exact(text: str, expected: int) -> None:
    """A string of digits with an optional fraction is an epoch number, read exactly (no float on the way)."""
    assert to_epoch_us(text) == expected
    assert text_us(text) == expected


@pytest.mark.parametrize(
    "text", ["1e9", "-1771491600", "+1771491600", " 1771491600", "1771491600.", ".5", "١٢٣", "0x10"]
)
def test_other_numeric_looking_strings_are_not_timestamps(text: str) -> None:
    """Only plain digits with an optional fraction: no sign, exponent, blanks or non-ASCII digits."""
    assert to_epoch_us(text) is None


epoch_values = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.integers(0, 10**19),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1e19),
    st.from_regex(r"\A[0-9]{1,20}(\.[0-9]{1,12})?\Z"),
    st.sampled_from(["2026-02-19T09:00:00.412Z", "2026-02-19T09:00:00+01:00", "junk", ""]),
    st.sampled_from([None, True, False, MISSING, [], {}]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(epoch_values, max_size=60), st.sampled_from([None, *UNITS]), st.booleans())
def test_reading_many_values_equals_reading_each(values: list[object], unit: str | None, naive: bool) -> None:
    """The numpy paths (ints, floats, texts a kind at a time) give what each value gives on its own."""
    reader = TimeReader(naive, unit)
    assert reader.many(values).tolist() == [reader.one(v) for v in values]
    for value, got in zip(values, reader.many(values).tolist(), strict=True):
        if value is None or value is MISSING:
            assert got == MISSING_US
        else:
            found = to_epoch_us(value, naive, unit)
            assert got == (BAD_US if found is None else found)


# --- strptime formats -------------------------------------------------------------------------------

TIME_LOCAL = "%d/%b/%Y:%H:%M:%S %z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19/Feb/2026:09:00:00 +0000", utc(2026, 2, 19, 9)),
        ("19/Feb/2026:16:00:00 +0700", utc(2026, 2, 19, 9)),
        ("18/Feb/2026:23:30:00 -0930", utc(2026, 2, 19, 9)),
        ("29/Feb/2026:09:00:00 +0000", -1),  # no such day
        ("19/Feb/2026 09:00:00 +0000", -1),  # not the format
        ("2026-02-19T09:00:00Z", -1),  # ISO is not read when a format is given
    ],
)
def test_a_format_reads_nginx_time_local(text: str, expected: int) -> None:
    """nginx's `$time_local` through `%d/%b/%Y:%H:%M:%S %z`, offsets applied, the rest bad."""
    assert TimeReader(fmt=TIME_LOCAL).many([text]).tolist() == [expected]


def test_a_format_without_an_offset_reads_naive_times_only_when_they_are_utc() -> None:
    """Without %z a time is naive: rejected, unless `naive: utc`."""
    assert TimeReader(fmt="%Y/%m/%d %H:%M:%S").one("2026/02/19 09:00:00") == BAD_US
    assert TimeReader(True, fmt="%Y/%m/%d %H:%M:%S").one("2026/02/19 09:00:00") == utc(2026, 2, 19, 9)


def test_a_format_parses_each_distinct_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Busy logs repeat a second on many lines: strptime runs once per distinct text, not per line."""
    reader = FormatReader(TIME_LOCAL)
    calls: list[str] = []
    parse = reader._parse
    monkeypatch.setattr(reader, "_parse", lambda text: calls.append(text) or parse(text))
    texts = ["19/Feb/2026:09:00:00 +0000"] * 500 + ["19/Feb/2026:09:00:01 +0000"] * 500
    assert reader.many(texts).tolist() == [utc(2026, 2, 19, 9)] * 500 + [utc(2026, 2, 19, 9, 0, 1)] * 500
    assert reader.many(texts).tolist()[-1] == utc(2026, 2, 19, 9, 0, 1)
    assert calls == ["19/Feb/2026:09:00:00 +0000", "19/Feb/2026:09:00:01 +0000"]


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)), st.integers(-1439, 1439)
)
def test_a_format_reads_what_strftime_writes(when: datetime, offset_minutes: int) -> None:
    """Any second written with the format reads back as that instant, whatever its offset."""
    aware = when.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assume(EPOCH <= aware <= LAST_OF_9999)
    assert FormatReader(TIME_LOCAL).one(aware.strftime(TIME_LOCAL)) == us(aware)
