"""The sidecar's status page at `/`, served by a real `slotail run` over a day of seed-000 traffic.

Headless Chromium screenshots it at phone and desktop widths (kept in test-artifacts/).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slotail.config import load_config
from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import US, iso_utc, parse_instant
from tests.chromium import DESKTOP, PHONE, check_not_blank, screenshot, share
from tests.sidecar import Sidecar, wait_until

pytestmark = pytest.mark.integration
SEED_CONFIG = Path(__file__).parents[2] / "config" / "slotail.yaml"
DAY_S = 86400
OUTAGE_S = 25 * 60


def seed_sidecar(tmp_path: Path, incident: Incident, *, archive: bool = False) -> tuple[Sidecar, int]:
    """The seed-000 config over a log holding the last 24 h with `incident` (as a rotated archive read at
    start-up with `archive`, which also evaluates the alerts over that day), and when that day starts."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(SEED_CONFIG.read_text().replace('"var/demo/*.log"', f'"{logs}/*.log"'))
    model = TrafficModel(rate=0.4, incidents=[incident])
    now_us = time.time_ns() // 1000
    lines = sorted(generate_lines(now_us - DAY_S * US, DAY_S - 5, model, seed=11))
    day = logs / ("api.log.1" if archive else "api.log")
    day.write_bytes(b"".join(line + b"\n" for _, line in lines))
    (logs / "api.log").touch()
    return Sidecar(tmp_path, config, args=("--backfill", str(day)) if archive else ()), now_us - DAY_S * US


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[Sidecar]:
    """A day of traffic with an API outage 6 h ago."""
    daemon, _ = seed_sidecar(tmp_path, Incident(DAY_S - 6 * 3600, 30 * 60, "errors", 0.5, "api"))
    yield daemon
    daemon.close()


@pytest.fixture
def paging(tmp_path: Path) -> Iterator[tuple[Sidecar, int]]:
    """A day of traffic whose last 25 minutes are an API outage still going on (half the requests fail),
    and when the outage started."""
    daemon, start_us = seed_sidecar(
        tmp_path, Incident(DAY_S - OUTAGE_S, 3600, "errors", 0.5, "api"), archive=True
    )
    yield daemon, start_us + (DAY_S - OUTAGE_S) * US
    daemon.close()


def names() -> list[str]:
    return [slo.name for slo in load_config(SEED_CONFIG).slos]


def test_status_page_shows_every_slo_with_a_day_sparkline_and_renders_on_phone_and_desktop(sidecar):
    """Per SLO: SLI against objective, budget bar, burn rates, alert states and an SVG sparkline of 24 h."""
    sidecar.start()
    slos = names()
    assert len(slos) == 6

    def loaded() -> bytes | None:
        doc = sidecar.document()
        if not all(s["events"]["good"] for s in doc["slos"]):
            return None
        status, page = sidecar.get("/")
        return page if status == 200 and page.count(b'class="spark"') == len(slos) else None

    page = wait_until(loaded, describe=sidecar.diagnostics).decode()
    assert '<meta http-equiv="refresh"' in page and "<script" not in page
    assert "Release process: " in page
    cards = re.split(r'<section class="card[ a-z]*">', page)[1:]
    assert [re.match(r"<h2>([a-z-]+) ", c)[1] for c in cards] == slos  # type: ignore[index]
    for card in cards:
        assert "<svg" in card and 'class="bar"' in card and "Burn rates" in card and "Alerts" in card
        assert re.search(r'class="spark".*<path d="M[^"]+L', card), "the sparkline draws a line"
    outage = cards[slos.index("api-availability")]
    assert "Last 24 h" in outage and "error ratio per 20 min" in outage
    url = f"http://127.0.0.1:{sidecar.port}/"
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        shot = screenshot(url, f"status-{label}", size)
        check_not_blank(shot, size)


HEADER_RED, STRIP_RED = "#b91c1c", "#dc2626"  # outputs/html.py CSS: header.red, .firing.red


def test_during_an_outage_the_paging_slo_is_red_in_the_header_and_on_its_card_with_its_start(
    paging, tmp_path
):
    """Budgets aside, a firing page shows in the header and on its card, red, with its open interval's start
    (UTC and how long ago); the release banner names the rule and the SLO; screenshots show the red."""
    daemon, outage_us = paging
    daemon.start()

    def firing() -> tuple[str, dict[str, Any]] | None:
        doc = daemon.document()
        slo = next(s for s in doc["slos"] if s["name"] == "api-availability")
        fast = next(a for a in slo["alerts"] if a["name"] == "page-fast")
        status, page = daemon.get("/")
        return (page.decode(), fast) if fast["active"] and status == 200 else None

    page, fast = wait_until(firing, describe=daemon.diagnostics)
    start = parse_instant(fast["intervals"][-1]["start"])
    assert outage_us <= start <= outage_us + 15 * 60 * US, "page-fast opens in the outage's first minutes"
    shown = iso_utc(start)[:19].replace("T", " ") + " UTC"

    top = re.search(r"<header[^>]*>.*?</header>", page, re.S)[0]  # type: ignore[index]
    assert top.startswith('<header class="red">'), top
    assert re.search(rf"api-availability: PAGE page-fast \([^)]*\) since {shown} \(\d+ min ago\)", top), top
    cards = {name: css for css, name in re.findall(r'<section class="(card[ a-z]*)"><h2>([a-z-]+) ', page)}
    assert cards["api-availability"] == "card red", cards
    assert {c for name, c in cards.items() if name != "api-availability"} <= {"card", "card amber"}, cards
    assert re.search(rf'<div class="firing red">PAGE page-fast \([^)]*\) since {shown}', page), page
    banner = re.search(r'<div class="decision [a-z]*">Release process: ([^<]*)</div>', page)[1]  # type: ignore[index]
    assert "rule: " in banner and "met by " in banner and "api-availability" in banner, banner

    url = f"http://127.0.0.1:{daemon.port}/"
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        shot = screenshot(url, f"status-incident-{label}", size, tmp_path)
        check_not_blank(shot, size)
        width, height = size
        assert share(shot, HEADER_RED, (0, 0, width, 12)) > 0.9, f"{shot}: the header is not red"
        column = width // 3 if size == DESKTOP else width  # desktop: the first card of three is the outage's
        strip = share(shot, STRIP_RED, (0, 12, column, height))
        assert strip * column * (height - 12) > 20 * 150, f"{shot}: no red strip on the paging card"
