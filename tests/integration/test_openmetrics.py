"""`backfill --openmetrics`: imported by the real promtool into TSDB blocks, read back, equal to the JSON."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests import oracle
from tests.golden import run_backfill
from tests.scenarios import CONFIG, generate, lines, write
from tests.tools import require

pytestmark = pytest.mark.integration
SAMPLE = re.compile(r"^\{(?P<labels>.*)\} (?P<value>\S+) (?P<ts>\d+)$")


def dump(promtool: str, blocks) -> dict[tuple[str, frozenset], dict[int, float]]:
    """Every sample in the blocks: (metric, labels) -> {timestamp ms: value}."""
    (blocks / "wal").mkdir(exist_ok=True)  # dump opens the blocks as a TSDB, which wants a WAL folder
    out = subprocess.run([promtool, "tsdb", "dump", str(blocks)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    series: dict[tuple[str, frozenset], dict[int, float]] = {}
    for line in out.stdout.splitlines():
        match = SAMPLE.match(line)
        assert match, line
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        name = labels.pop("__name__")
        series.setdefault((name, frozenset(labels.items())), {})[int(match["ts"])] = float(match["value"])
    return series


def test_openmetrics_imports_into_tsdb_and_reads_back_equal_to_the_backfill_json(tmp_path):
    """promtool create-blocks-from openmetrics then tsdb dump: burn rates, budget, alerts, counters."""
    promtool = require("promtool", "prometheus")
    scenario = generate(3 * 3600, rate=2.0, seed=21, error=lambda t: 0.4 if 5000 <= t < 6000 else 0.002)
    log = write(tmp_path / "api.log", lines(scenario), "plain")
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    om = tmp_path / "out.om"
    doc = run_backfill(config, [log], "--openmetrics", str(om))
    assert om.read_text().endswith("# EOF\n")
    blocks = tmp_path / "blocks"
    made = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(blocks)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    series = dump(promtool, blocks)
    at_ms = scenario.last_us // 1000
    checked = 0
    for slo in doc["slos"]:
        for window, stats in slo["windows"].items():
            burn = series[("slotail_burn_rate", frozenset({"slo": slo["name"], "window": window}.items()))]
            assert burn[at_ms] == pytest.approx(stats["burn_rate"], rel=1e-12), (slo["name"], window)
            checked += 1
        remaining = series[("slotail_error_budget_remaining_ratio", frozenset({"slo": slo["name"]}.items()))]
        assert remaining[at_ms] == pytest.approx(slo["error_budget"]["remaining_ratio"], rel=1e-12)
        for alert in slo["alerts"]:
            labels = {"slo": slo["name"], "alert": alert["name"], "severity": alert["severity"]}
            active = series[("slotail_alert_active", frozenset(labels.items()))]
            assert active[at_ms] == float(alert["active"])
            fired_at = {int(ts) for ts, v in active.items() if v == 1.0}
            starts = {oracle.iso(ts * 1000) for ts in fired_at}
            assert {i["start"] for i in alert["intervals"]} <= starts
        for outcome, count in slo["events"].items():
            events = series[
                ("slotail_sli_events_total", frozenset({"slo": slo["name"], "outcome": outcome}.items()))
            ]
            assert events[at_ms] == count  # the period covers the whole scenario
    assert checked >= 15


def test_each_series_samples_are_contiguous_as_the_openmetrics_spec_asks(tmp_path):
    """Over more steps than one evaluation round (2048: 6 h at 10 s), every series' samples stay
    together in timestamp order within its family, so a strict OpenMetrics parser (prometheus_client's)
    reads the whole export; before, each round appended its own run of every series."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    scenario = generate(6 * 3600, rate=0.5, seed=4, error=lambda t: 0.3 if 9000 <= t < 9600 else 0.002)
    log = write(tmp_path / "api.log", lines(scenario), "plain")
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    om = tmp_path / "out.om"
    run_backfill(config, [log], "--openmetrics", str(om), "--step", "10s")
    families = list(text_string_to_metric_families(om.read_text()))
    assert {f.name for f in families} >= {"slotail_sli_events", "slotail_burn_rate"}
    for family in families:
        stamps: dict[tuple, list[float]] = {}
        for sample in family.samples:
            stamps.setdefault((sample.name, tuple(sorted(sample.labels.items()))), []).append(
                float(sample.timestamp)
            )
        for key, times in stamps.items():
            assert times == sorted(times), key
        assert max(len(t) for t in stamps.values()) > 2048  # more than one round of steps
