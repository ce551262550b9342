"""`backfill --format markdown|html` on generated seed-000 logs: the weekly review and the HTML report.

The HTML report is opened in headless Chromium at phone and desktop widths; the
screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import parse_instant
from tests.chromium import DESKTOP, PHONE, check_not_blank, screenshot

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).parents[2] / "config" / "slotail.yaml"
START = "2026-02-19T09:00:00Z"
HOURS = 6
SLOS = (
    "api-availability",
    "api-latency",
    "booking-success",
    "payment-success",
    "webhook-success",
    "matching-latency",
)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six hours of seed 000 traffic with an API outage (pages) and a payment incident."""
    model = TrafficModel(
        rate=1.5,
        incidents=[
            Incident(2 * 3600, 20 * 60, "errors", 0.5, "api"),
            Incident(4 * 3600, 15 * 60, "errors", 0.4, "payment"),
        ],
    )
    path = tmp_path_factory.mktemp("reports") / "application.log"
    lines = sorted(generate_lines(parse_instant(START), HOURS * 3600, model, seed=5))
    path.write_bytes(b"".join(line + b"\n" for _, line in lines))
    return path


def backfill(log: Path, fmt: str, out: Path | None = None) -> str:
    """The real CLI's report (written to `out` when given, else read from stdout)."""
    cmd = [sys.executable, "-m", "slotail", "backfill", "--config", str(CONFIG), "--format", fmt]
    cmd += ["--no-progress", *(["--out", str(out)] if out else []), str(log)]
    proc = subprocess.run(cmd, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    if out is not None:
        assert proc.stdout == b""
        return out.read_text(encoding="utf-8")
    return proc.stdout.decode()


@pytest.fixture(scope="module")
def doc(log: Path) -> dict:
    return dict(json.loads(backfill(log, "json")))


def test_markdown_review_has_every_slo_with_the_json_numbers_the_freeze_decision_and_the_alerts(log, doc):
    """Seed 000 PART 7: status table (target, current, budget in min and %, trend), freeze, alerts fired."""
    text = backfill(log, "markdown")
    rows = {
        m[1]: m[0] for m in re.finditer(r"^\| ([a-z-]+) \| .*\|$", text.split("### Release freeze")[0], re.M)
    }
    assert set(rows) == set(SLOS)
    for slo in doc["slos"]:
        budget = slo["error_budget"]
        left = f"{budget['remaining_minutes']:.1f} of {budget['total_minutes']:.1f} min "
        left += f"({budget['remaining_ratio'] * 100:.0f}%)"
        assert left in rows[slo["name"]], rows[slo["name"]]
        assert f"{slo['sli'] * 100:.3f}%" in rows[slo["name"]]
    assert "| SLO | Target | Current | Budget remaining | Status | Trend |" in text
    release = doc["release"]  # the budget policy: seed 000 PART 7's tree in config/slotail.yaml
    assert release["decision"] in ("NORMAL", "CAUTIOUS", "FREEZE")
    assert f"**Decision: {release['decision']}** — {release['reason']}" in text
    fired = text.split("### Alerts that fired")[1]
    for slo in doc["slos"]:
        for alert in slo["alerts"]:
            for interval in alert["intervals"]:
                assert (
                    f"| {slo['name']} | {alert['name']} | {alert['severity']} | {interval['start']} |"
                    in fired
                )
    outage = next(s for s in doc["slos"] if s["name"] == "api-availability")
    assert any(a["intervals"] for a in outage["alerts"] if a["name"] == "page-fast")  # the outage paged


def test_html_report_is_self_contained_has_charts_for_every_slo_and_renders_in_chromium(log, tmp_path):
    """Inline CSS and SVG only; per SLO its section and three charts; screenshots at phone and desktop."""
    out = tmp_path / "report.html"
    page = backfill(log, "html", out)
    assert "<script" not in page and "<link" not in page and "url(" not in page
    assert not re.search(r'(src|href)="?(https?:)?//', page)
    for name in SLOS:
        section = page.split(f'id="slo-{name}"')[1].split("</section>")[0]
        assert section.count("<svg") == 3, name
        assert section.count('<path d="M') >= 3, name  # every chart draws a line
    assert "Release process: " in page and "Alerts that fired" in page
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        shot = screenshot(out.as_uri(), f"report-{label}", size)
        check_not_blank(shot, size)
