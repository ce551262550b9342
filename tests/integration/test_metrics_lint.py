"""`promtool check metrics` finds nothing to say about what slotail exports (issue 13).

A live sidecar's /metrics with every metric family present (latency SLIs, a grouped
SLO over camelCase and dotted fields with overflow, firing alerts, invalid lines,
source errors, dropped and late events), and the families of a backfill's
OpenMetrics export, each piped into the real promtool.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from prometheus_client.core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from slotail import names
from slotail.outputs.prometheus import render
from tests.golden import run_backfill
from tests.sidecar import (
    AVAILABILITY,
    LATENCY,
    Sidecar,
    Truth,
    config_text,
    unprivileged_dir,
    wait_until,
)
from tests.tools import require

pytestmark = pytest.mark.integration
GROUPED = """
  - name: by-client
    objective: 99
    group_by: [clientRegion, user.tier]
    max_series: 2
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
"""
FAMILIES = {v for k, v in vars(names).items() if k.isupper() and v.startswith("slotail_")}


def lint(promtool: str, text: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=60)


def present(text: str) -> set[str]:
    """The families of a /metrics body that have at least one sample (counters without `_total`)."""
    return {f.name for f in text_string_to_metric_families(text) if f.samples}


def grouped_lines(now_ms: int) -> bytes:
    """Requests of three (clientRegion, user.tier) pairs: one more than `max_series` keeps."""
    rows = [
        {
            "ts": now_ms,
            "event": "req",
            "status": status,
            "ms": 30,
            "clientRegion": region,
            "user": {"tier": tier},
        }
        for region, tier in (("eu", "free"), ("us", "pro"), ("ap", "free"))
        for status in (200, 503)
    ]
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def odd_lines(now_ms: int) -> bytes:
    """Requests from the future (dropped), 10 min late (counted late) and with a status of the wrong type."""
    rows = [
        {"ts": now_ms + 86_400_000, "event": "req", "status": 200, "ms": 10},
        {"ts": now_ms - 600_000, "event": "req", "status": 200, "ms": 10},
        {"ts": now_ms, "event": "req", "status": "oops", "ms": 10},
    ]
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def test_a_live_sidecars_metrics_pass_promtool_check_metrics_with_every_family_present():
    """Exit 0 and not a word of lint, on a scrape where every metric family of slotail.names has samples."""
    promtool = require("promtool", "prometheus")
    with unprivileged_dir() as (tmp, prefix):
        logs = tmp / "logs"
        logs.mkdir(mode=0o755)
        latency = LATENCY.replace("percentiles: [50, 95, 99]", "percentiles: [50, 95, 99, 99.9]")
        config = tmp / "slotail.yaml"
        config.write_text(config_text(logs, AVAILABILITY + latency + GROUPED))
        now_ms = time.time_ns() // 1_000_000
        (logs / "api.log").write_bytes(Truth().batch(16) + grouped_lines(now_ms) + odd_lines(now_ms))
        denied = logs / "denied.log"
        denied.write_bytes(Truth().batch(1))
        denied.chmod(0)  # slotail_source_errors_total{reason="permission_denied"}
        sidecar = Sidecar(tmp, config, prefix=prefix).start()
        try:

            def scrape() -> bytes | None:
                status, body = sidecar.get("/metrics")
                return body if status == 200 and present(body.decode()) >= FAMILIES else None

            body = wait_until(
                scrape,
                describe=lambda: (
                    f"missing {FAMILIES - present(sidecar.get('/metrics')[1].decode())}\n"
                    + sidecar.diagnostics()
                ),
            )
        finally:
            sidecar.close()
    checked = lint(promtool, body)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, b"", b""), checked
    text = body.decode()
    assert 'client_region="eu",outcome="bad",slo="by-client",user_tier="free"' in text
    assert 'percentile="99.9"' in text and 'alert="page-fast"' in text


def last_samples(text: str) -> list[Metric]:
    """The OpenMetrics families with each series' last sample, untimestamped (as a scrape would show)."""
    lines: list[str] = []
    series: dict[str, str] = {}  # name{labels} -> its last sample, of the family being read
    for line in text.splitlines():
        if line.startswith("#"):  # TYPE, HELP, EOF: the family before is complete
            lines += series.values()
            series.clear()
            lines.append(line)
        else:
            name_labels, value, _ = line.rsplit(" ", 2)
            series[name_labels] = f"{name_labels} {value}"
    return list(openmetrics_families("\n".join(lines) + "\n"))


def test_the_openmetrics_export_names_pass_promtool_check_metrics(tmp_path: Path):
    """The export's families, converted to the text format, lint as cleanly as /metrics."""
    promtool = require("promtool", "prometheus")
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(tmp_path, AVAILABILITY + GROUPED))
    log = tmp_path / "api.log"
    start_ms = 1_771_491_600_000
    lines = [grouped_lines(start_ms + i * 20_000) for i in range(30)]
    log.write_bytes(b"".join(lines))
    out = tmp_path / "history.om"
    run_backfill(config, [log], "--openmetrics", str(out))
    families = last_samples(out.read_text())
    assert {f.name for f in families} >= {names.SLI_EVENTS, names.BURN_RATE, names.ALERT_ACTIVE}
    text = render(families)
    checked = lint(promtool, text)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, b"", b""), checked
    assert b'client_region="eu"' in text
