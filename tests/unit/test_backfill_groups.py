"""Backfill of a grouped SLO: every group's counts and burn rates equal a count over the raw events."""

from __future__ import annotations

import json

import numpy as np
import pytest

import slotail.workers
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


GROWING = """
slos:
  - name: latency-by-user
    objective: 99
    group_by: [user]
    max_series: 50
    sli:
      events: {event: req}
      latency: {field: ms, unit: ms, threshold: 100, percentiles: [50, 99]}
  - name: errors-by-user
    objective: 99
    group_by: [user]
    max_series: 50
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
alerts:
  - {name: fast, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m}
"""


def _growing_log(tmp_path, n: int = 20_000, per_user: int = 100) -> tuple:
    """Users who appear one after another over the day (a new one every `per_user` lines)."""
    rng = np.random.default_rng(8)
    ts_ms = START_S * 1000 + np.arange(n) * 4000
    user = np.arange(n) // per_user
    ms = rng.random(n) * 200
    status = np.where(rng.random(n) < 0.02, 503, 200)
    log = tmp_path / "api.log"
    rows = zip(ts_ms.tolist(), user.tolist(), ms.tolist(), status.tolist(), strict=True)
    log.write_text(
        "".join(
            json.dumps({"timestamp": t, "event": "req", "user": f"u{u}", "ms": m, "status": s}) + "\n"
            for t, u, m, s in rows
        )
    )
    return log, ts_ms, user, ms, status


@pytest.mark.parametrize("workers", [1, 2])
def test_groups_that_keep_appearing_over_time_count_as_numpy_counts_them(tmp_path, monkeypatch, workers):
    """New users appearing all day long (a new series every few minutes, within one read batch, on a
    latency SLO and a ratio SLO) are counted per user as numpy counts them, past the cap too; in one
    process and through worker processes (blocks of 64 KiB)."""
    monkeypatch.setattr(slotail.workers, "BLOCK_BYTES", 1 << 16)
    log, ts_ms, user, ms, status = _growing_log(tmp_path)
    at_ms = int(ts_ms[-1]) + 1000 - (int(ts_ms[-1]) + 1000) % 10_000 + 10_000
    run = Backfill(load_config_text(GROWING), at_us=at_ms * 1000, workers=workers)
    assert run.workers is None or run.workers.suits(str(log), 0)
    result = run.run([str(log)])
    doc = document(result.snapshot, result.lines)
    kept = set(range(50))
    overflow = ~np.isin(user, list(kept))
    assert result.diagnostics.series_overflow == {
        "latency-by-user": int(overflow.sum()),
        "errors-by-user": int(overflow.sum()),
    }
    for slo in doc["slos"]:
        label = slo["labels"]["user"]
        mine = overflow if label == "__overflow__" else user == int(label[1:])
        bad = mine & (ms > 100) if slo["name"] == "latency-by-user" else mine & (status >= 500)
        assert slo["events"] == {"good": int(mine.sum() - bad.sum()), "bad": int(bad.sum()), "excluded": 0}
    shown = {(s["name"], s["labels"]["user"]) for s in doc["slos"]}
    assert len(shown) == 2 * 51


def test_a_group_first_seen_after_at_is_no_series_and_no_overflow(tmp_path):
    """Lines after `--at` are ignored entirely: a user first seen after it gets no series, and none
    of them counts as folded into overflow (the cap is not reached before `--at`)."""
    log, ts_ms, _user, _, _ = _growing_log(tmp_path, n=2000, per_user=100)
    cut = 1000  # users u0..u9 before --at, u10..u19 only after
    at_ms = int(ts_ms[cut - 1])
    result = Backfill(load_config_text(GROWING), at_us=at_ms * 1000).run([str(log)])
    doc = document(result.snapshot, result.lines)
    users = {s["labels"]["user"] for s in doc["slos"]}
    assert users == {f"u{u}" for u in range(10)}
    assert result.diagnostics.series_overflow == {"latency-by-user": 0, "errors-by-user": 0}
    assert result.diagnostics.after_at == int((ts_ms > at_ms).sum())
