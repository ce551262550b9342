"""The sidecar on a manual clock counts a timeslice SLO as a backfill does, slice by slice, restarted too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slotail.daemon import Daemon, Options
from slotail.engine import ManualClock
from slotail.outputs.document import slo_document
from slotail.timeutil import US
from tests import oracle

T0_S = 1_789_999_980  # a minute edge (2026-09-21T14:13:00Z)
TICK_S = 37  # ticks fall anywhere in a slice
CONFIG = """
sources:
  - {{name: api, paths: [{logs}], start_at: beginning}}
timestamp: {{field: ts}}
slos:
  - name: sliced
    objective: 99
    period: 2h
    budgeting: timeslices
    slice: 1m
    slice_target: 90
    sli: {{events: {{event: req}}, bad: {{status: {{gte: 500}}}}}}
    alerts:
      - {{name: page, severity: page, burn_rate: 10, window: 30m, for: 2m}}
  - name: skipping
    objective: 95
    period: 1h
    budgeting: timeslices
    slice: 5m
    slice_target: 80
    empty_slices: skip
    sli: {{events: {{event: req}}, bad: {{status: {{gte: 500}}}}}}
    alerts:
      - {{name: ticket, severity: ticket, burn_rate: 4, window: 15m}}
"""
ALERTS = {
    "sliced": [{"name": "page", "factor": 10.0, "long_s": 1800, "short_s": None, "for_s": 120}],
    "skipping": [{"name": "ticket", "factor": 4.0, "long_s": 900, "short_s": None}],
}


def start(config: Path, state: Path, clock: ManualClock) -> Daemon:
    daemon = Daemon(Options(config, state_dir=state), clock=clock)
    daemon.restore()
    return daemon


def stop(daemon: Daemon) -> None:
    daemon._checkpoint(force=True)
    assert daemon.tailer is not None
    daemon.tailer.close()
    daemon.state.close()


def test_the_sidecar_counts_slices_as_the_raw_events_say_across_a_restart(tmp_path: Path) -> None:
    """Three hours of ticks every 37 s, lines written in between (an incident, quiet spells with no event
    at all), a restart half way: slices, SLI, budget and alert intervals equal a count over the lines."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "api.log"
    log.touch()
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG.format(logs=json.dumps(str(logs / "*.log"))))
    clock = ManualClock(T0_S * US)
    daemon = start(config, tmp_path / "state", clock)
    rng = np.random.default_rng(3)
    stamps: list[int] = []
    bad: list[bool] = []
    ticks: list[int] = []
    for i in range(1, 3 * 3600 // TICK_S):
        now = (T0_S + i * TICK_S) * US
        quiet = 40 <= i < 60 or 200 <= i < 215  # no events at all: empty slices
        failing = 0.5 if 120 <= i < 150 else 0.02
        n = 0 if quiet else int(rng.integers(5, 30))
        # Stamped since the last tick, some exactly on a minute edge, in any order.
        ts = now - rng.integers(0, TICK_S * US, n)
        ts[: n // 8] = ts[: n // 8] // (60 * US) * 60 * US
        ts = np.maximum(ts, now - TICK_S * US + 1)
        fail = rng.random(n) < failing
        with open(log, "a") as out:
            for t, f in zip(ts.tolist(), fail.tolist(), strict=True):
                out.write(json.dumps({"ts": t / US, "event": "req", "status": 503 if f else 200}) + "\n")
        stamps += ts.tolist()
        bad += fail.tolist()
        clock.set(now)
        daemon._poll()
        daemon._tick()
        ticks.append(now)
        if i == 150:  # a restart: slices come back from the checkpoint
            stop(daemon)
            daemon = start(config, tmp_path / "state", clock)
    snapshot = daemon.published.snapshot
    assert snapshot is not None
    stop(daemon)
    ts_all = np.array(stamps, np.int64)
    bad_all = np.array(bad, bool)
    at = ticks[-1]
    for slo in snapshot.slos:
        got = slo_document(slo)
        period_s, size, target, empty_good = {
            "sliced": (7200, 60, 0.9, True),
            "skipping": (3600, 300, 0.8, False),
        }[slo.name]
        truth = oracle.SliceTruth.build_slices(
            slo.name,
            slo.objective * 100,
            period_s,
            ts_all,
            ~bad_all,
            bad_all,
            np.zeros(len(ts_all), bool),
            slice_s=size,
            target=target,
            empty_good=empty_good,
            alerts=ALERTS[slo.name],
        )
        start_us, _ = truth.period(at)
        assert (got["slices"]["good"], got["slices"]["bad"], got["slices"]["empty"]) == truth.slices(
            start_us, at
        )
        assert got["sli"] == oracle_approx(truth.sli(at))
        assert got["error_budget"]["remaining_ratio"] == oracle_approx(truth.budget(at)["remaining_ratio"])
        for alert in truth.alerts:
            intervals, active = truth.alert_intervals(ticks, alert)
            [found] = [a for a in got["alerts"] if a["name"] == alert["name"]]
            assert found["intervals"] == intervals, slo.name
            assert found["active"] is active
        assert all(a["intervals"] for a in got["alerts"])  # the incident fires each alert


def oracle_approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-12)
