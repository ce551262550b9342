"""The reports' calendar view: each month's and ISO week's SLI, budget spent, worst day and alerts fired
equal a count over the raw events of a log spanning three months (events on month, week and day edges)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests import oracle
from tests.golden import backfill_report

pytestmark = pytest.mark.integration
US = 1_000_000
DAY_US = 86400 * US
STEP_S = 300
CONFIG = """
store: {bucket: 10s}
slos:
  - name: requests
    objective: 99
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts:
      - {name: fast, severity: page, burn_rate: 10, window: 1h}
  - name: sliced
    objective: 95
    period: month
    budgeting: timeslices
    slice: 1h
    slice_target: 90
    sli: {good: {event: ok}, bad: {event: failed}}
"""
FAST = {"name": "fast", "factor": 10.0, "long_s": 3600, "short_s": None}


def midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * US


FIRST_DAY, LAST_DAY = date(2026, 1, 20), date(2026, 4, 9)  # a Tuesday; the logs end inside April 9
MONTHS = [date(2026, m, 1) for m in (1, 2, 3, 4, 5)]
WEEKS = [date.fromisocalendar(2026, w, 1) for w in range(4, 17)]  # Mondays from January 19


def events() -> tuple[np.ndarray, np.ndarray]:
    """(times µs, bad), sorted: about one event a minute, each day with its own error rate (some days
    bad all day, an hour-long incident now and then), and events at 00:00 on every day's edge."""
    rng = np.random.default_rng(21)
    stamps, bad = [], []
    day = FIRST_DAY
    while day <= LAST_DAY:
        start = midnight(day)
        n = int(rng.integers(1000, 1800))
        ts = start + np.sort(rng.integers(1, DAY_US, n))
        ts[:3] = [start + DAY_US, start + DAY_US, start + 1]  # at the midnight closing the day, and after one
        rate = rng.choice([0.001, 0.005, 0.02, 0.08], p=[0.5, 0.3, 0.15, 0.05])
        failing = rng.random(n) < rate
        hour = int(rng.integers(0, 24))
        if rng.random() < 0.3:  # an incident hour
            failing |= (
                (ts > start + hour * 3600 * US)
                & (ts <= start + (hour + 1) * 3600 * US)
                & (rng.random(n) < 0.5)
            )
        stamps.append(ts)
        bad.append(failing)
        day += timedelta(days=1)
    ts, failed = np.concatenate(stamps), np.concatenate(bad)
    last = midnight(LAST_DAY) + 15 * 3600 * US  # the logs end at 15:00 on the last day
    keep = ts <= last
    order = np.argsort(ts[keep], kind="stable")
    return ts[keep][order], failed[keep][order]


def backfill(tmp_path: Path, fmt: str) -> str:
    """The report in `fmt` of a backfill of `events()` (written once)."""
    log, config = tmp_path / "api.log", tmp_path / "slotail.yaml"
    if not log.exists():
        ts, bad = events()
        log.write_text(
            "".join(
                json.dumps({"timestamp": oracle.iso(int(t)), "event": "failed" if b else "ok"}) + "\n"
                for t, b in zip(ts.tolist(), bad.tolist(), strict=True)
            )
        )
        config.write_text(CONFIG)
    return backfill_report(config, [log], fmt, "--step", f"{STEP_S}s")


def table(markdown: str, heading: str) -> dict[tuple[str, str], list[str]]:
    """A markdown table's rows after `heading`, by (SLO, period)."""
    lines = markdown.split(heading + "\n", 1)[1].splitlines()[3:]  # a blank line, the header, |---|
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[(cells[0], cells[1].removesuffix(" (partial)"))] = cells[2:]
    return rows


def label(unit: str, start: int) -> str:
    """`2026-02`, or the ISO week `2026-W07`."""
    when = datetime.fromtimestamp(start // US, UTC)
    return when.strftime("%Y-%m") if unit == "month" else "{}-W{:02d}".format(*when.isocalendar()[:2])


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.3f}%"


def expected(truth: oracle.SLOTruth, start: int, end: int, intervals: list[dict], sliced: bool) -> list[str]:
    """The row the oracle gives for the period (start, end], as the report writes it."""

    def counts(a: int, b: int) -> tuple[int, int, bool]:
        if sliced:
            assert isinstance(truth, oracle.SliceTruth)
            good, bad, empty = truth.slices(a, b)
            return good, bad, good + bad - empty > 0
        good = int(((truth.good > a) & (truth.good <= b)).sum())
        bad = int(((truth.bad > a) & (truth.bad <= b)).sum())
        return good, bad, good + bad > 0

    good, bad, data = counts(start, end)
    daily = []
    for day in range(start, end, DAY_US):
        g, b, d = counts(day, day + DAY_US)
        if d:
            daily.append((g / (g + b), day))
    sli = good / (good + bad) if data else None
    spent = bad / (truth.budget_ratio * (good + bad)) if data else None
    worst = min(daily) if daily else None
    worst_text = "—" if worst is None else f"{oracle.iso(worst[1])[:10]} ({percent(worst[0])})"
    met = "—" if spent is None else ("✓ met" if spent <= 1 else "✗ missed")
    fired = sum(
        start < int(np.datetime64(i["start"].rstrip("Z"), "us").astype(np.int64)) <= end for i in intervals
    )
    return [percent(sli), "—" if spent is None else f"{spent * 100:.1f}%", met, worst_text, str(fired)]


def test_each_month_and_week_of_the_logs_has_its_row_equal_to_a_count_over_the_events(tmp_path: Path) -> None:
    """Rows by month and ISO week for an SLO counting events and one counting hourly slices: SLI, budget
    spent (and met or missed), worst day and alerts that opened in the period, from numpy over the events;
    a period holds its end, so an event at 00:00 on the 1st (or on a Monday) closes the period before."""
    ts, bad = events()
    markdown = backfill(tmp_path, "markdown")
    html = backfill(tmp_path, "html")
    assert "Compliance history" in html and "2026-W08" in html
    doc = json.loads(backfill(tmp_path, "json"))
    first_step = -(-int(ts[0]) // (STEP_S * US)) * STEP_S * US
    covered = (first_step - STEP_S * US, int(ts[-1]))  # what the report's spans reach, first to last step
    steps = oracle.steps(int(ts[0]), int(ts[-1]), STEP_S)
    requests = oracle.SLOTruth.build("requests", 99.0, 30 * 86400, ts, ~bad, bad, np.zeros(len(ts), bool))
    intervals, _ = requests.alert_intervals(steps, FAST)
    got_intervals = next(s for s in doc["slos"] if s["name"] == "requests")["alerts"][0]["intervals"]
    assert got_intervals == intervals and len(intervals) >= 5  # (the alert itself: as the golden tests check)
    sliced = oracle.SliceTruth.build_slices(
        "sliced", 95.0, 0, ts, ~bad, bad, np.zeros(len(ts), bool), slice_s=3600, target=0.9, empty_good=True
    )
    for unit, edges, heading in (
        ("month", MONTHS, "Compliance by month"),
        ("week", WEEKS, "Compliance by ISO week"),
    ):
        rows = table(markdown, heading)
        bounds = [(midnight(a), midnight(b)) for a, b in itertools.pairwise(edges)]
        bounds = [(a, b) for a, b in bounds if b > covered[0] and a < covered[1]]
        labels = [label(unit, a) for a, _ in bounds]
        assert {p for _, p in rows} == set(labels)
        for (a, b), name in zip(bounds, labels, strict=True):
            span = (max(a, covered[0]), min(b, covered[1]))
            assert rows[("requests", name)] == expected(requests, *span, intervals, False), (unit, name)
            assert rows[("sliced", name)] == expected(sliced, *span, [], True), (unit, name)
    months = table(markdown, "Compliance by month")
    assert any(
        cells[2] == "✗ missed" for cells in months.values()
    )  # the view answers "which months did we miss?"
