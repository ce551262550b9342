"""HTML and SVG renderings: well-formed charts with gaps for no data, and nothing unescaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np

from slotail.alerts.registry import AlertKind
from slotail.engine.snapshot import AlertState, Budget, Interval, Release, Snapshot, WindowStats
from slotail.outputs.charts import Chart, Line, line_chart, path_d, sparkline, ticks
from slotail.outputs.history import SLOHistory
from slotail.outputs.html import render_html
from slotail.outputs.lookback import SLOLookback, Slots, Trend
from slotail.outputs.status import status_page
from slotail.outputs.text import render_markdown
from slotail.pipeline import LineStats
from tests.snapshots import slo_status

US = 1_000_000
HOSTILE = '<script>alert("x")</script>&'


def hostile_snapshot() -> Snapshot:
    alert = AlertState(HOSTILE, "<sev>", AlertKind.BURN, 0.0, 14.4, "1h", "5m", True, (Interval(0, None),))
    slo = slo_status(
        name=HOSTILE,
        good=990,
        bad=10,
        sli=0.99,
        budget=Budget(2.0, -1.0, 216.0, -216.0),
        status="exhausted",
        windows=(WindowStats("30d", 2592000, 990, 10, 0.01, 2.0, None),),
        alerts=(alert,),
    )
    return Snapshot(3600 * US, (slo,), Release("FREEZE", "<why>", (HOSTILE,)))


def recent() -> dict[str, SLOLookback]:
    slots = Slots((1200 * US, 2400 * US, 3600 * US), (10, 0, 5), (0, 0, 5), 1200)
    return {HOSTILE: SLOLookback(HOSTILE, 0.005, slots, Trend(604800, 2.0, 1.0))}


def test_nothing_from_the_config_becomes_markup():
    snapshot = hostile_snapshot()
    times = np.array([0, 1800 * US, 3600 * US], np.int64)
    history = {HOSTILE: SLOHistory(HOSTILE, 0.005, "30d", times, {"30d": np.array([np.nan, 0.01, 0.02])})}
    pages = [
        status_page(snapshot, recent()),
        render_html(snapshot, LineStats(), recent(), history, 0),
    ]
    for page in pages:
        assert "<script" not in page and "<sev>" not in page and "<why>" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
        assert "FREEZE" in page and "FIRING" in page


def test_status_page_before_the_first_tick_says_so_and_refreshes():
    page = status_page(None, {})
    assert "starting" in page and 'http-equiv="refresh"' in page


def test_a_line_breaks_where_there_is_no_data():
    """No events is a gap, not a zero: the path lifts the pen over missing values."""
    assert path_d([(0, 1.0), (1, None), (2, 2.0), (3, math.nan), (4, 3.0), (5, 4.0)]) == (
        "M0.0 1.0 M2.0 2.0 M4.0 3.0 L5.0 4.0"
    )


def test_charts_are_well_formed_svg_with_escaped_text():
    chart = Chart(
        "a < b",
        [0, 60 * US, 120 * US],
        [Line("5m & 1h", [0.1, None, 0.3])],
        lambda v: f"{v:.2f}",
        marks=[(0.2, "<1x>")],
        bands=[(30 * US, 90 * US)],
    )
    for svg in (line_chart(chart), sparkline([0.1, None, 0.4], 0.2, "x & y")):
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "&lt;1x&gt;" in line_chart(chart)


def test_ticks_are_round_and_cover_the_range():
    assert ticks(0, 0.11) == [0, 0.05, 0.1, 0.15]
    assert ticks(-0.37, 1.06) == [-0.5, 0, 0.5, 1.0, 1.5]
    assert ticks(0, 22.7) == [0, 10, 20, 30]


def test_markdown_review_row_freeze_and_fired_alerts():
    """A row per SLO: target, current, budget (min and %), status, trend; the decision; alerts; escaped."""
    snapshot = hostile_snapshot()
    text = render_markdown(snapshot, LineStats(), recent())
    name = '&lt;script&gt;alert("x")&lt;/script&gt;&amp;'
    assert "<script" not in text and "<sev>" not in text
    row = f"| {name} | 99.50% | 99.000% | -216.0 of 216.0 min (-100%) | exhausted (red) | ↓ |"
    assert row in text
    assert "**Overall:** 0 green, 0 amber, 1 red. **Release process: FREEZE.**" in text
    assert f"**Decision: FREEZE** — &lt;why&gt; ({name})." in text
    assert f"| {name} | -216.0 of 216.0 min (-100%) | 50.00x | ✓ |" in text
    assert f"| {name} | {name} | &lt;sev&gt; | 1970-01-01T00:00:00Z | still active |" in text
