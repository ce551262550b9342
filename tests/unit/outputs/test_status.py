"""The status page and the HTML report during an incident: what fires is loud, with when it started."""

from __future__ import annotations

import re

import pytest

from slotail.alerts.registry import AlertKind
from slotail.engine.snapshot import AlertState, Budget, Interval, Release, Snapshot
from slotail.outputs.html import render_html
from slotail.outputs.status import status_page
from slotail.outputs.text import render_markdown
from slotail.pipeline import LineStats
from slotail.timeutil import parse_instant
from tests.snapshots import slo_status

NOW = parse_instant("2026-02-19T15:00:00Z")
MIN = 60_000_000
HEALTHY = {"budget": Budget(0.1, 0.9, 216.0, 194.4), "status": "healthy", "good": 999, "bad": 1, "sli": 0.999}


def alert(name: str, severity: str, *intervals: Interval) -> AlertState:
    active = bool(intervals) and intervals[-1].end_us is None
    return AlertState(name, severity, AlertKind.BURN, 0.0, 14.4, "1h", "5m", active, intervals)


def incident() -> Snapshot:
    """Three SLOs, budgets healthy: one pages (for 23 min), one has a ticket (for 2 h 5 min), one is quiet."""
    paging = slo_status(
        name="api-availability",
        alerts=(
            alert(
                "page-fast",
                "page",
                Interval(NOW - 300 * MIN, NOW - 290 * MIN),
                Interval(NOW - 23 * MIN, None),
            ),
            alert("page-slow", "page"),
        ),
        **HEALTHY,
    )
    ticket = slo_status(
        name="booking-success",
        alerts=(alert("ticket-slow", "ticket", Interval(NOW - 125 * MIN, None)),),
        **HEALTHY,
    )
    quiet = slo_status(name="webhook-success", alerts=(alert("page-fast", "page"),), **HEALTHY)
    return Snapshot(NOW, (paging, ticket, quiet), Release("NORMAL", "", ()))


def header(page: str) -> str:
    match = re.search(r"<header[^>]*>.*?</header>", page, re.S)
    assert match, page
    return match[0]


def cards(page: str) -> dict[str, str]:
    """Each SLO's card (status page) or section (report), by the SLO's name in its heading."""
    found = re.findall(r'(<section class="card[^"]*"[^>]*><h2>([a-z-]+) .*?</section>)', page, re.S)
    return {name: card for card, name in found}


def test_a_paging_slo_is_red_in_the_header_and_on_its_card_with_when_it_started():
    """Budgets all healthy, yet a page fires: the header and the card say so, red, with start and age."""
    page = status_page(incident(), {})
    top = header(page)
    assert re.match(r'<header class="[^"]*\bred\b', top), top
    assert "api-availability" in top and "page-fast" in top
    assert "2026-02-19 14:37:00 UTC" in top and "23 min ago" in top
    card = cards(page)["api-availability"]
    assert re.match(r'<section class="card [^"]*\bred\b', card), card
    strip = re.search(r'<div class="firing red">(.*?)</div>', card)
    assert strip, card
    assert "page-fast" in strip[1] and "2026-02-19 14:37:00 UTC" in strip[1] and "23 min ago" in strip[1]
    assert "page-slow" not in strip[1]  # not firing


def test_a_firing_ticket_is_amber_and_quieter_than_a_page():
    page = status_page(incident(), {})
    top = header(page)
    assert "booking-success" in top and "ticket-slow" in top and "2 h 5 min ago" in top
    assert top.index("api-availability") < top.index("booking-success")  # pages first
    card = cards(page)["booking-success"]
    assert re.match(r'<section class="card [^"]*\bamber\b', card), card
    assert re.search(r'<div class="firing amber">[^<]*ticket-slow[^<]*2026-02-19 12:55:00 UTC', card), card
    assert "firing red" not in card


def test_quiet_slos_and_a_quiet_page_show_no_alarm():
    page = status_page(incident(), {})
    assert "firing" not in cards(page)["webhook-success"]
    quiet = status_page(Snapshot(NOW, (slo_status(name="webhook-success", **HEALTHY),), None), {})
    assert not re.match(r'<header class="[^"]*\b(red|amber)\b', header(quiet)), header(quiet)
    assert "no alert firing" in header(quiet)


def test_the_header_counts_what_fires_before_the_budget_colours():
    """`3 green` alone is not the summary while something pages."""
    top = header(status_page(incident(), {}))
    assert re.search(r"firing: 1 page, 1 ticket · budgets: 3 green, 0 amber, 0 red", top), top


def test_a_grouped_slo_with_many_paging_series_lists_a_few_in_the_header_and_counts_the_rest():
    series = tuple(
        slo_status(
            name="api",
            labels=(("region", f"r{i:02d}"),),
            alerts=(alert("page-fast", "page", Interval(NOW - MIN, None)),),
            **HEALTHY,
        )
        for i in range(20)
    )
    top = header(status_page(Snapshot(NOW, series, None), {}))
    assert top.count("<li") < 10 and "and 14 more" in top, top
    assert "firing: 20 page" in top


@pytest.mark.parametrize(
    ("release", "shown"),
    [
        (
            Release("CAUTIOUS", "", ("api-availability",), "budget ≤ 100 min"),
            "CAUTIOUS — rule: budget ≤ 100 min — met by api-availability",
        ),
        (
            Release("FREEZE", "budget spent", ("a", "b"), "budget ≤ 0%"),
            "FREEZE — budget spent — rule: budget ≤ 0% — met by a, b",
        ),
        (Release("NORMAL", "all fine", ()), "NORMAL — all fine"),
    ],
)
def test_the_release_banner_says_which_rule_decided_and_for_which_slos(release, shown):
    page = status_page(Snapshot(NOW, (), release), {})
    assert f"Release process: {shown}</div>" in page


def test_the_html_report_shows_what_is_active_at_the_evaluation_time_like_the_status_page():
    page = render_html(incident(), LineStats(), {}, {})
    top = header(page)
    assert re.match(r'<header class="[^"]*\bred\b', top), top
    assert "page-fast" in top and "2026-02-19 14:37:00 UTC" in top and "23 min before evaluation" in top
    section = cards(page)["api-availability"]
    assert re.search(r'<div class="firing red">[^<]*page-fast', section), section
    assert "firing amber" in cards(page)["booking-success"]


def test_the_markdown_review_names_the_deciding_rule_too():
    release = Release("CAUTIOUS", "", ("api",), "budget ≤ 100 min")
    text = render_markdown(Snapshot(NOW, (), release), LineStats(), {})
    assert "**Decision: CAUTIOUS** (api); rule: budget ≤ 100 min." in text
