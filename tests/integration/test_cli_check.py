"""`slotail check` as a real process: exit codes, every problem on stderr, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "slotail.yaml"

SEVERAL_MISTAKES = """\
defaults:
  period: 30x
slos:
  - name: api-availability
    objective: 99.5
    sli:
      events: {event: http_request_completed}
      bad: {statusCode: {gte: "500"}}
  - name: Bad Name
    objective: 150
    sli:
      good: {event: a}
      bad: {event: b}
  - name: lat
    objective: 95
    sli:
      events: {event: x}
      latency: {field: t, unit: minutes, threshold: 100}
alerts: google-31d
"""

# (key path, line, a phrase saying what was expected)
EXPECTED = [
    ("defaults.period", 2, "expected a duration"),
    ("slos[0].sli.bad.statusCode.gte", 8, "expected a number"),
    ("slos[1].name", 9, "lowercase letters"),
    ("slos[1].objective", 10, "strictly between 0 and 100"),
    ("slos[2].sli.latency.unit", 18, "'ms', 's', 'us' or 'ns'"),
    ("alerts", 19, "google-30d"),
]


def check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slotail", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_the_shipped_config_passes() -> None:
    """`config/slotail.yaml` validates: exit 0, a summary on stdout, nothing on stderr."""
    proc = check(SHIPPED)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"OK — 6 SLOs, 24 alerts", proc.stdout)  # six SLOs × the four google-30d alerts
    assert "Traceback" not in proc.stderr


def test_a_config_with_several_mistakes_exits_2_listing_every_one(tmp_path: Path) -> None:
    """Exit 2; stderr names the file and has one `line N: key.path: expectation` per mistake."""
    config = tmp_path / "slotail.yaml"
    config.write_text(SEVERAL_MISTAKES)
    proc = check(config)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0] == f"{config}: {len(EXPECTED)} problem(s) in config"
    for path, line, phrase in EXPECTED:
        matching = [
            text for text in proc.stderr.splitlines() if text.strip().startswith(f"line {line}: {path}: ")
        ]
        assert len(matching) == 1, (path, proc.stderr)
        assert phrase in matching[0]


def test_invalid_yaml_exits_2_with_the_line_and_no_traceback(tmp_path: Path) -> None:
    """A YAML syntax error is reported like any other config problem."""
    config = tmp_path / "broken.yaml"
    config.write_text("slos:\n  - name: a: b\n")
    proc = check(config)
    assert proc.returncode == 2
    assert "line 2:" in proc.stderr and "not valid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_config_file_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    """A config path that does not exist is a clear message, not a crash."""
    proc = check(tmp_path / "absent.yaml")
    assert proc.returncode != 0
    assert "absent.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr
