"""Golden scenarios: `slotail backfill --format json` equals an independent numpy computation."""

from __future__ import annotations

import pytest

from tests import oracle
from tests.golden import check_document, run_backfill
from tests.scenarios import CONFIG, T0, generate, lines, write

pytestmark = pytest.mark.integration
HOUR = 3600


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "slotail.yaml"
    path.write_text(CONFIG)
    return path


def test_steady_traffic_with_an_incident_matches_the_oracle(tmp_path, config):
    """2.5 days of traffic with a 40-minute error incident: counts, burn rates, budget, alerts."""
    incident = (40 * HOUR, 40 * HOUR + 40 * 60)

    def inside(t):
        return incident[0] <= t < incident[1]

    scenario = generate(
        int(60 * HOUR),
        rate=1.0,
        seed=11,
        error=lambda t: 0.3 if inside(t) else 0.002,
        job_error=lambda t: 0.25 if inside(t) else 0.003,
    )
    log = write(tmp_path / "api.log", lines(scenario), "plain")
    doc = run_backfill(config, [log])
    check_document(doc, scenario)
    availability = next(s for s in doc["slos"] if s["name"] == "availability")
    fired = {a["name"] for a in availability["alerts"] if a["intervals"]}
    assert {"page-fast", "page-slow"} <= fired  # the incident pages


def test_total_outage_split_over_gz_zst_and_plain_files_matches_the_oracle(tmp_path, config):
    """A 20-minute total outage, its log split over three compressions given newest first."""
    outage = (3 * HOUR, 3 * HOUR + 20 * 60)

    def down(t):
        return 1.0 if outage[0] <= t < outage[1] else 0.001

    scenario = generate(6 * HOUR, rate=3.0, seed=5, error=down, job_error=down)
    all_lines = lines(scenario)
    third = len(all_lines) // 3
    parts = [
        write(tmp_path / "api.log.2", all_lines[:third], "zstd"),
        write(tmp_path / "api.log.1", all_lines[third : 2 * third], "gzip"),
        write(tmp_path / "api.log", all_lines[2 * third :], "plain"),
    ]
    doc = run_backfill(config, list(reversed(parts)))
    check_document(doc, scenario)
    one_file = run_backfill(config, [write(tmp_path / "whole.log", all_lines, "plain")])
    assert doc == one_file
    jobs = next(s for s in doc["slos"] if s["name"] == "jobs")
    spike = next(a for a in jobs["alerts"] if a["name"] == "spike")
    assert spike["intervals"] and spike["intervals"][0]["start"] >= oracle.iso(
        T0 + outage[0] * 10**6 + 120 * 10**6
    )


def test_latency_shift_percentiles_and_at_match_the_oracle(tmp_path, config):
    """Latency ×4 for an hour: percentiles per window at the end and, with --at, mid-shift."""
    scenario = generate(8 * HOUR, rate=3.0, seed=9, slow=lambda t: 4.0 if 3 * HOUR <= t < 4 * HOUR else 1.0)
    log = write(tmp_path / "api.log.gz", lines(scenario), "gzip")
    check_document(run_backfill(config, [log]), scenario)
    at = T0 + int(3.5 * HOUR) * 10**6 + 123_000
    doc = run_backfill(config, [log], "--at", oracle.iso(at))
    check_document(doc, scenario, at_us=at)
    latency = next(s for s in doc["slos"] if s["name"] == "latency")
    assert latency["windows"]["1h"]["burn_rate"] > 1  # the shift shows
