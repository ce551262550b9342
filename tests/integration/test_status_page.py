"""The sidecar's status page at `/`, served by a real `slotail run` over a day of seed-000 traffic.

Headless Chromium screenshots it at phone and desktop widths (kept in test-artifacts/).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slotail.config import load_config
from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import US
from tests.chromium import DESKTOP, PHONE, check_not_blank, screenshot
from tests.sidecar import Sidecar, wait_until

pytestmark = pytest.mark.integration
SEED_CONFIG = Path(__file__).parents[2] / "config" / "slotail.yaml"
DAY_S = 86400


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[Sidecar]:
    """The seed-000 config tailing a log that already holds the last 24 h (an API outage 6 h ago)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(SEED_CONFIG.read_text().replace('"var/demo/*.log"', f'"{logs}/*.log"'))
    model = TrafficModel(rate=0.4, incidents=[Incident(DAY_S - 6 * 3600, 30 * 60, "errors", 0.5, "api")])
    now_us = time.time_ns() // 1000
    lines = sorted(generate_lines(now_us - DAY_S * US, DAY_S - 5, model, seed=11))
    (logs / "api.log").write_bytes(b"".join(line + b"\n" for _, line in lines))
    daemon = Sidecar(tmp_path, config)
    yield daemon
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
    cards = page.split('<section class="card">')[1:]
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
