"""The sidecar's loop on a manual clock: a clock jump is read as the clock says, and counted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from slotail import daemon as daemon_module
from slotail.daemon import Daemon, Options, _loopback
from slotail.engine import ManualClock
from slotail.outputs.prometheus import MetricsBody, View, registry_for
from slotail.timeutil import US
from tests.sidecar import AVAILABILITY, config_text

T0_S = 1_790_000_000  # 2026-09-21
HOUR_S = 3600


class Log:
    """The API's log: lines stamped with the time its own clock says."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, ts_s: float, n: int) -> None:
        with open(self.path, "a") as out:
            for i in range(n):
                out.write(
                    json.dumps({"ts": int(ts_s * 1000), "event": "req", "seq": i, "status": 200, "ms": 5})
                )
                out.write("\n")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Daemon, ManualClock, Log]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    clock = ManualClock(T0_S * US)
    (logs / "api.log").touch()  # there at start: opened at once, no rescan needed
    daemon = Daemon(Options(config, state_dir=tmp_path / "state"), clock=clock)
    daemon.restore()
    yield daemon, clock, Log(logs / "api.log")
    assert daemon.tailer is not None
    daemon.tailer.close()
    daemon.state.close()


def good(daemon: Daemon) -> int:
    return daemon.totals.events["availability", "good"]


def window_5m(daemon: Daemon) -> int:
    daemon._tick()
    snapshot = daemon.published.snapshot
    assert snapshot is not None
    slo = next(s for s in snapshot.slos if s.name == "availability")
    return next(w.good for w in slo.windows if w.label == "5m")


def test_a_forward_clock_jump_makes_lines_already_written_late_and_still_counted(running) -> None:
    """+1 h: the lines stamped before the jump count, as late events; the 5m window moves on without them."""
    daemon, clock, log = running
    log.write(T0_S, 10)
    daemon._poll()
    assert (good(daemon), window_5m(daemon)) == (10, 10)

    log.write(T0_S + 1, 4)  # written just before the jump, read after it
    clock.advance(HOUR_S)
    log.write(T0_S + HOUR_S, 3)
    daemon._poll()
    assert good(daemon) == 17
    assert daemon.totals.health["late"] == 2 * 4  # per SLO event: both SLOs read each line
    assert window_5m(daemon) == 3
    assert not daemon.totals.dropped["future"]


def test_a_backward_clock_jump_drops_lines_stamped_ahead_as_future_and_holds_alert_states(running) -> None:
    """−2 h: lines stamped before the jump are over 5 min ahead of the clock (dropped as future); lines
    stamped after it count; alert states are not re-evaluated until the clock passes their last evaluation."""
    daemon, clock, log = running
    log.write(T0_S, 10)
    daemon._poll()
    daemon._tick()
    last = {key: tracker.last_us for key, tracker in daemon.runtime.engine.trackers.items()}

    clock.advance(-2 * HOUR_S)
    log.write(T0_S + 1, 4)  # written before the jump, read after it
    log.write(T0_S - 2 * HOUR_S, 5)
    daemon._poll()
    assert good(daemon) == 15
    assert daemon.totals.dropped["future"] == 2 * 4
    assert window_5m(daemon) == 5  # windows follow the clock
    assert {key: t.last_us for key, t in daemon.runtime.engine.trackers.items()} == last


async def test_a_tick_serves_requests_between_its_steps_and_publishes_only_when_done(running, monkeypatch):
    """With the loop free between every step, a request during a tick is served, and it reads the
    snapshot published before the tick (never a half-made one); the tick's snapshot comes at its end."""
    daemon, clock, log = running
    log.write(T0_S, 10)
    daemon._poll()
    daemon._tick()
    before = daemon.published.snapshot
    clock.advance(5)
    monkeypatch.setattr(daemon_module, "TICK_SLICE_S", 0.0)
    seen = []

    async def requests() -> None:
        while True:
            seen.append(daemon.published.snapshot)
            await asyncio.sleep(0)

    served = asyncio.create_task(requests())
    await asyncio.sleep(0)
    await daemon._tick_sliced()
    served.cancel()
    assert len(seen) > len(daemon.runtime.engine.plans)  # a step a series at least, each followed by a pause
    assert all(snapshot is before for snapshot in seen)
    after = daemon.published.snapshot
    assert after is not None and before is not None and after.at_us == before.at_us + 5 * US


def test_the_metrics_body_is_the_collectors_text_byte_for_byte(running) -> None:
    """/metrics (the snapshot's part rendered once a tick) says exactly what the collector renders."""
    daemon, _clock, log = running
    log.write(T0_S, 10)
    daemon._poll()
    daemon._tick()
    for _ in range(2):  # the second time from the snapshot's cached text, with newer counters
        view = daemon.view()
        assert view.snapshot is not None
        assert MetricsBody(lambda v=view: v)() == generate_latest(registry_for(lambda v=view: v))
        assert daemon.metrics_body.snapshot_text(view.snapshot) in MetricsBody(lambda v=view: v)()
        log.write(T0_S, 3)
        daemon._poll()
        daemon._checkpoint()
    for empty in (View(daemon.totals, None, {}), View(None, None, {})):
        assert MetricsBody(lambda v=empty: v)() == generate_latest(registry_for(lambda v=empty: v))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.7", False),
        ("pod.example", False),
    ],
)
def test_only_loopback_addresses_count_as_private(host: str, loopback: bool) -> None:
    """Listening anywhere else without TLS and basic auth is warned about at start."""
    assert _loopback(host) is loopback


def test_a_reload_drops_removed_slos_counters_and_takes_new_sources_and_alertmanager_together(
    running, tmp_path: Path
) -> None:
    """SIGHUP with one SLO left, another log folder and an alertmanager: the removed SLO's counters go
    (the kept one's stay), and both the new sources and the new alertmanager take effect."""
    daemon, _clock, log = running
    log.write(T0_S, 10)
    daemon._poll()
    assert daemon.totals.events["latency", "good"] == 10
    other = tmp_path / "other-logs"
    other.mkdir()
    Log(other / "api.log").write(T0_S + 1, 3)  # not the old log's first bytes: not taken for its copy
    daemon.options.config_path.write_text(
        config_text(other, AVAILABILITY) + "alertmanager: {url: 'http://127.0.0.1:9'}\n"
    )

    daemon._reload()
    daemon._poll()

    assert {key[0] for key in daemon.totals.events} == {"availability"}
    assert daemon.totals.events["availability", "good"] == 10 + 3
    assert daemon.pusher is not None


def test_metrics_served_while_state_loads_show_no_counter_rather_than_counters_at_0(tmp_path: Path) -> None:
    """HTTP is up before the checkpoint is restored (and archives read): /metrics then has no counter
    sample at all, so none goes back to 0 after a restart; once restored, they go on from the checkpoint."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    Log(logs / "api.log").write(T0_S, 10)
    options = Options(config, state_dir=tmp_path / "state")
    first = Daemon(options, clock=ManualClock(T0_S * US))
    first.restore()
    first._poll()
    first._checkpoint(force=True)
    assert first.tailer is not None
    first.tailer.close()
    first.state.close()
    committed = counters(first.metrics_body())
    assert committed["slotail_read_bytes_total"] > 0

    second = Daemon(options, clock=ManualClock(T0_S * US))
    assert counters(second.metrics_body()) == {}
    second.restore()
    assert counters(second.metrics_body()) == committed
    assert second.tailer is not None
    second.tailer.close()
    second.state.close()


def counters(body: bytes) -> dict[str, float]:
    """Every counter sample of a /metrics body, by name and labels."""
    return {
        f"{s.name}{sorted(s.labels.items())}".removesuffix("[]"): s.value
        for family in text_string_to_metric_families(body.decode())
        if family.type == "counter"
        for s in family.samples
        if s.name.endswith("_total")
    }


def test_a_warm_starts_counts_show_once_committed_as_every_counter_does(tmp_path: Path) -> None:
    """Archives read at start count on /metrics from the commit that holds them: killed before it, the
    next start would read the archives as they are then, maybe fewer, and counters would go back."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    Log(tmp_path / "api.log.1").write(T0_S, 10)
    options = Options(config, state_dir=tmp_path / "state", backfill=(str(tmp_path / "api.log.*"),))
    daemon = Daemon(options, clock=ManualClock((T0_S + 60) * US))
    backfill = "slotail_lines_total[('result', 'parsed'), ('source', 'backfill')]"

    daemon.restore()
    assert counters(daemon.metrics_body()).get(backfill, 0) == 0
    daemon._checkpoint()
    assert counters(daemon.metrics_body())[backfill] == 10
    assert daemon.tailer is not None
    daemon.tailer.close()
    daemon.state.close()
