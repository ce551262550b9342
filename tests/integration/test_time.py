"""Event time in the live sidecar (issue 6): out-of-order, late, future and too-old lines, each by its rule.

- out of order: each line counts in the bucket of its own timestamp, in any order;
- late (older than --lateness, 5 min, when read): counted as usual, and in slotail_late_events_total;
- future, beyond the skew (5 min ahead of the wall clock): dropped, counted in
  slotail_dropped_events_total{reason="future"};
- older than the store holds behind the wall clock (its longest window, here the 30d period):
  dropped, counted in slotail_dropped_events_total{reason="too_old"}.
All these counters are per SLO event (a request line is one event for each of the two SLOs).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.sidecar import OUTCOMES, REQUESTS, Sidecar, config_text, outcomes, wait_until

pytestmark = pytest.mark.integration
MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS


def line(ts_ms: int, seq: int) -> bytes:
    status, ms = REQUESTS[seq % len(REQUESTS)]
    return json.dumps({"ts": ts_ms, "event": "req", "seq": seq, "status": status, "ms": ms}).encode() + b"\n"


def test_out_of_order_late_future_and_too_old_lines_each_follow_their_rule(tmp_path: Path) -> None:
    """Shuffled lines over the last 50 min all count (those over 5 min old also as late); lines 10 min
    ahead are dropped as future; 1 min ahead they count at once, and in windows once the clock gets
    there; lines 40 days old are dropped as too old."""
    now = time.time_ns() // 1_000_000
    rng = random.Random(6)
    recent = [now - rng.randrange(0, 50 * MINUTE_MS) for _ in range(400)]
    recent = [ts for ts in recent if not now - 6 * MINUTE_MS < ts < now - 4 * MINUTE_MS]  # clear of the edge
    stamps = [(ts, "counted") for ts in recent] + [(now + MINUTE_MS, "ahead")] * 5
    stamps += [(now - 40 * DAY_MS, "too_old")] * 7 + [(now + 10 * MINUTE_MS, "future")] * 9
    events: Counter[tuple[str, str]] = Counter()
    windowed: Counter[tuple[str, str]] = Counter()  # in the period's window now: not the lines ahead
    dropped: Counter[str] = Counter()
    late = 0
    logs = tmp_path / "logs"
    logs.mkdir()
    with open(logs / "api.log", "wb") as out:
        for seq, (ts, fate) in enumerate(stamps):
            out.write(line(ts, seq))
            status, ms = REQUESTS[seq % len(REQUESTS)]
            if fate in ("counted", "ahead"):
                for slo, outcome in outcomes(status, ms).items():
                    events[slo, outcome] += 1
                    windowed[slo, outcome] += fate == "counted"
                late += 2 if ts < now - 5 * MINUTE_MS else 0
            else:
                dropped[fate] += 2
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    sidecar = Sidecar(tmp_path, config)
    expected = {
        "events": {(s, o): events[s, o] for s in ("availability", "latency") for o in OUTCOMES},
        "dropped": dict(dropped),
        "late": late,
    }
    try:
        sidecar.start()

        def seen() -> dict[str, object]:
            m = sidecar.metrics()
            return {
                "events": {
                    (s, o): int(
                        m.get(("slotail_sli_events_total", frozenset({("slo", s), ("outcome", o)})), 0)
                    )
                    for s, o in expected["events"]  # type: ignore[attr-defined]
                },
                "dropped": {
                    r: int(m.get(("slotail_dropped_events_total", frozenset({("reason", r)})), 0))
                    for r in ("future", "too_old")
                },
                "late": int(m.get(("slotail_late_events_total", frozenset()), 0)),
            }

        wait_until(
            lambda: seen() == expected, describe=lambda: f"{seen()}\n!= {expected}\n{sidecar.diagnostics()}"
        )
        period = {slo["name"]: slo["events"] for slo in sidecar.document()["slos"]}
        assert period == {s: {o: windowed[s, o] for o in OUTCOMES} for s in ("availability", "latency")}
    finally:
        sidecar.close()
