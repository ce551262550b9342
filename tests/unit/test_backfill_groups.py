"""Backfill of a grouped SLO: every group's counts and burn rates equal a count over the raw events."""

from __future__ import annotations

import json

import numpy as np

from slotail.backfill import Backfill
from slotail.config import load_config_text
from slotail.outputs.document import document

CONFIG = """
slos:
  - name: by-region
    objective: 99
    group_by: [region]
    max_series: 3
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
alerts:
  - {name: fast, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m}
"""
START_S = 1_764_000_000  # a multiple of 10 s
REGIONS = np.array(["eu", "us", "ap", "sa", "af"])


def _events(seed: int = 5, n: int = 20_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts_ms = START_S * 1000 + np.sort(rng.integers(0, 2 * 3600 * 1000, n))
    region = rng.choice(len(REGIONS), n, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    bad = rng.random(n) < np.where(region == 1, 0.2, 0.01)
    return ts_ms, region, bad


def test_group_counts_and_burn_rates_equal_numpy_counts_per_region(tmp_path):
    """Three regions get series (in first-seen order); the other two fold into overflow, counted."""
    ts_ms, region, bad = _events()
    log = tmp_path / "api.log"
    log.write_text(
        "".join(
            json.dumps(
                {"timestamp": int(t), "event": "req", "region": str(REGIONS[r]), "status": 200 + 300 * int(b)}
            )
            + "\n"
            for t, r, b in zip(ts_ms, region, bad, strict=True)
        )
    )
    at_ms = (START_S + 2 * 3600) * 1000  # on a bucket edge, so windows are exact
    result = Backfill(load_config_text(CONFIG), at_us=at_ms * 1000).run([str(log)])
    doc = document(result.snapshot, result.lines)
    first_seen = [int(r) for r in dict.fromkeys(region.tolist())]
    kept = first_seen[:3]
    groups = {str(REGIONS[r]): region == r for r in kept}
    groups["__overflow__"] = ~np.isin(region, kept)
    shown = [s["labels"]["region"] for s in doc["slos"]]
    assert shown == [*sorted(str(REGIONS[r]) for r in kept), "__overflow__"]
    assert result.diagnostics.series_overflow == {"by-region": int(groups["__overflow__"].sum())}
    for slo in doc["slos"]:
        mine = groups[slo["labels"]["region"]]
        good, n_bad = int((mine & ~bad).sum()), int((mine & bad).sum())
        assert slo["events"] == {"good": good, "bad": n_bad, "excluded": 0}
        for label, seconds in (("5m", 300), ("1h", 3600)):
            inside = mine & (ts_ms > at_ms - seconds * 1000) & (ts_ms <= at_ms)
            n_bad, n_all = int((inside & bad).sum()), int(inside.sum())
            window = slo["windows"][label]
            assert (window["good"], window["bad"]) == (n_all - n_bad, n_bad)
            assert np.isclose(window["burn_rate"], n_bad / n_all / 0.01)
    us = next(s for s in doc["slos"] if s["labels"]["region"] == "us")
    assert us["alerts"][0]["intervals"]  # the bad region fires on its own
    assert not next(s for s in doc["slos"] if s["labels"]["region"] == "eu")["alerts"][0]["intervals"]
