"""A grouped SLO in a real `slotail run`: per-region counters on /metrics, the overflow counted, and
restarts (SIGTERM, then kill -9) keep every region's count exact, never doubled."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.sidecar import Sidecar, grouped_config_text, wait_until

pytestmark = pytest.mark.integration

REGIONS = ("eu", "us", "ap", "sa")  # max_series 3: sa folds into overflow


def append(log: Path, truth: Counter[tuple[str, str]], n: int) -> None:
    """n requests cycling through the regions, one in 7 failing; counted into `truth`."""
    now_ms = int(time.time() * 1000)
    with log.open("a") as out:
        for i in range(n):
            region, bad = REGIONS[i % len(REGIONS)], i % 7 == 0
            out.write(
                json.dumps({"ts": now_ms, "event": "req", "region": region, "status": 500 if bad else 200})
            )
            out.write("\n")
            group = region if region != "sa" else "__overflow__"
            truth[(group, "bad" if bad else "good")] += 1


def counted(sidecar: Sidecar) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for (name, labels), value in sidecar.metrics().items():
        if name == "slotail_sli_events_total" and value:
            found[(dict(labels)["region"], dict(labels)["outcome"])] = int(value)
    return found


def test_groups_count_exactly_across_sigterm_and_kill_restarts(tmp_path):
    """Each restart resumes where the checkpoint left off: every region's counters equal the lines written."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(grouped_config_text(logs, max_series=3))
    log = logs / "api.log"
    truth: Counter[tuple[str, str]] = Counter()
    sidecar = Sidecar(tmp_path, config)
    try:
        append(log, truth, 400)
        sidecar.start()
        wait_until(lambda: counted(sidecar) == truth, describe=lambda: f"{counted(sidecar)} != {truth}")
        overflow = ("slotail_series_overflow_total", frozenset({("slo", "by-region")}))
        assert sidecar.metrics()[overflow] == truth[("__overflow__", "good")] + truth[("__overflow__", "bad")]
        assert sidecar.stop() == 0
        for sig in (signal.SIGTERM, signal.SIGKILL):
            append(log, truth, 280)
            sidecar.start()
            wait_until(lambda: counted(sidecar) == truth, describe=lambda: f"{counted(sidecar)} != {truth}")
            time.sleep(1.5)  # a checkpoint and a poll later, nothing more is counted
            assert counted(sidecar) == truth
            sidecar.stop(sig)
        sidecar.start()
        doc = sidecar.document()
        shown = [s["labels"]["region"] for s in doc["slos"]]
        assert shown == ["ap", "eu", "us", "__overflow__"]
        events = {s["labels"]["region"]: s["events"] for s in doc["slos"]}
        assert events["eu"] == {"good": truth[("eu", "good")], "bad": truth[("eu", "bad")], "excluded": 0}
    finally:
        sidecar.close()
