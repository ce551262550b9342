"""Maintenance windows: their occurrences, and which observations they turn to excluded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from slotail.classify import Observations
from slotail.classify.maintenance import Maintenance, occurrences
from slotail.config import load_config_text
from slotail.outcomes import BAD, EXCLUDED, GOOD
from slotail.timeutil import iso_utc, parse_instant

CONFIG = """
slos:
  - {name: api, objective: 99.9, sli: {good: {event: ok}, bad: {event: failed}}}
  - {name: jobs, objective: 99, sli: {good: {event: done}, bad: {event: lost}}}
maintenance:
  - {name: monthly, every: month, weekday: sun, nth: 1, at: "02:00", duration: 2h}   # seed 001
  - {name: migration, slos: [jobs], start: 2026-03-10T12:00:00Z, end: 2026-03-10T12:30:00Z}
"""


def spans(spec_index: int, start: str, end: str) -> list[tuple[str, str]]:
    spec = load_config_text(CONFIG).maintenance[spec_index]
    return [(iso_utc(a), iso_utc(b)) for a, b in occurrences(spec, parse_instant(start), parse_instant(end))]


def test_the_first_sunday_of_each_month_from_two_to_four_utc():
    """Seed 001's window: 2:00-4:00 UTC on the first Sunday of the month."""
    assert spans(0, "2026-01-15T00:00:00Z", "2026-04-10T00:00:00Z") == [
        ("2026-02-01T02:00:00Z", "2026-02-01T04:00:00Z"),
        ("2026-03-01T02:00:00Z", "2026-03-01T04:00:00Z"),
        ("2026-04-05T02:00:00Z", "2026-04-05T04:00:00Z"),
    ]


def test_the_last_weekday_of_a_month_and_weekly_and_daily_windows():
    """nth -1 is the month's last such weekday; week and day windows recur as said."""
    config = load_config_text(
        CONFIG.replace("nth: 1", "nth: -1").replace("name: migration", "name: m")
        + "  - {every: week, weekday: wed, at: '23:30', duration: 1h}\n"
        + "  - {every: day, at: '00:00', duration: 5m}\n"
    )
    last, weekly, daily = config.maintenance[0], config.maintenance[2], config.maintenance[3]
    lo, hi = parse_instant("2026-05-01T00:00:00Z"), parse_instant("2026-05-31T23:00:00Z")
    assert [iso_utc(a) for a, _ in occurrences(last, lo, hi)] == ["2026-05-31T02:00:00Z"]
    assert [iso_utc(a) for a, _ in occurrences(weekly, lo, lo + 8 * 86400 * 10**6)] == [
        "2026-05-06T23:30:00Z"
    ]
    # A window that began the day before still overlaps the range's start.
    assert next(iso_utc(a) for a, _ in occurrences(weekly, parse_instant("2026-05-07T00:10:00Z"), hi)) == (
        "2026-05-06T23:30:00Z"
    )
    assert len(occurrences(daily, lo, lo + 3 * 86400 * 10**6)) == 4  # May 1st to 4th, both ends in


instants = st.integers(
    min_value=parse_instant("2026-02-28T00:00:00Z"), max_value=parse_instant("2026-03-12T00:00:00Z")
)


@given(st.lists(st.tuples(instants, st.integers(0, 1), st.sampled_from([GOOD, BAD])), max_size=60))
def test_an_event_is_excluded_exactly_when_a_window_of_its_slo_holds_its_time(rows):
    """Brute force over calendar days: [start, end) of each window, only the SLOs it names."""
    config = load_config_text(CONFIG)
    ts = np.array([r[0] for r in rows], np.int64)
    series = np.array([r[1] for r in rows], np.int32)
    outcome = np.array([r[2] for r in rows], np.int8)
    obs = Observations(series, ts, outcome, np.full(len(rows), 5, np.int64), 0)
    got = Maintenance(config).apply(obs)

    def first_sunday_2_to_4(t: int) -> bool:
        when = datetime.fromtimestamp(t / 10**6, UTC)
        return (
            when.weekday() == 6
            and when.day <= 7
            and timedelta(hours=2)
            <= when - when.replace(hour=0, minute=0, second=0, microsecond=0)
            < timedelta(hours=4)
        )

    migration = (parse_instant("2026-03-10T12:00:00Z"), parse_instant("2026-03-10T12:30:00Z"))
    for i, (t, sid, out) in enumerate(rows):
        inside = first_sunday_2_to_4(t) or (sid == 1 and migration[0] <= t < migration[1])
        assert got.outcome[i] == (EXCLUDED if inside else out)
        assert got.latency_us[i] == (-1 if inside else 5)
    assert np.array_equal(got.series, series) and np.array_equal(got.ts_us, ts)


def test_bad_maintenance_config_names_the_key_path():
    """A recurring window without `at`, and an unknown SLO name, are reported where they are."""
    import pytest

    from slotail.errors import ConfigError

    bad = CONFIG.replace('at: "02:00", ', "").replace("slos: [jobs]", "slos: [nope]")
    with pytest.raises(ConfigError) as caught:
        load_config_text(bad)
    assert "maintenance[0]" in str(caught.value)
