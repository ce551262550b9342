"""A grouped SLO in the sidecar: counters per group on /metrics, overflow counted, and a restart or a
reload keeps every group's counts without counting anything twice."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.exposition import generate_latest

from slotail.daemon import Daemon, Options
from slotail.engine import ManualClock
from slotail.outputs.prometheus import View, registry_for
from slotail.timeutil import US
from tests.sidecar import grouped_config_text

T0_S = 1_790_000_000


def config(logs: Path, max_series: int = 2) -> str:
    return grouped_config_text(logs, max_series, plain=True)


def write(log: Path, ts_s: int, regions: list[str], status: int = 200) -> None:
    with log.open("a") as out:
        for region in regions:
            out.write(
                json.dumps({"ts": ts_s * 1000, "event": "req", "region": region, "status": status}) + "\n"
            )


def start(tmp_path: Path, clock: ManualClock) -> Daemon:
    daemon = Daemon(Options(tmp_path / "slotail.yaml", state_dir=tmp_path / "state"), clock=clock)
    daemon.restore()
    return daemon


def stop(daemon: Daemon) -> None:
    daemon._checkpoint(force=True)
    assert daemon.tailer is not None
    daemon.tailer.close()
    daemon.state.close()


def metrics(daemon: Daemon) -> str:
    daemon._tick()
    published = daemon.published
    view = View(daemon.totals, published.snapshot, published.gauges)
    return generate_latest(registry_for(lambda: view)).decode()


def by_region(daemon: Daemon) -> dict[str, tuple[int, int]]:
    daemon._tick()
    snapshot = daemon.published.snapshot
    assert snapshot is not None
    return {dict(s.labels)["region"]: (s.good, s.bad) for s in snapshot.slos if s.name == "by-region"}


def test_groups_on_metrics_overflow_counted_and_a_restart_keeps_each_groups_counts(tmp_path):
    """eu and us get series, ap folds into overflow; after a restart the same groups keep counting."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "slotail.yaml").write_text(config(logs))
    log = logs / "api.log"
    write(log, T0_S, ["eu", "us", "eu", "ap"])
    write(log, T0_S, ["us"], status=503)
    clock = ManualClock((T0_S + 1) * US)
    daemon = start(tmp_path, clock)
    daemon._poll()
    assert by_region(daemon) == {"eu": (2, 0), "us": (1, 1), "__overflow__": (1, 0)}
    text = metrics(daemon)
    assert 'slotail_sli_events_total{outcome="good",region="eu",slo="by-region"} 2.0' in text
    assert 'slotail_sli_events_total{outcome="bad",region="us",slo="by-region"} 1.0' in text
    assert 'slotail_sli_events_total{outcome="good",slo="plain"} 4.0' in text
    assert 'slotail_series_overflow_total{slo="by-region"} 1.0' in text
    assert 'slotail_burn_rate{region="us",slo="by-region",window="5m"} 50.0' in text
    assert 'slotail_alert_active{alert="page-fast",region="us",severity="page",slo="by-region"} 1.0' in text
    stop(daemon)

    write(log, T0_S + 2, ["us", "sa", "eu"])
    clock.advance(2 * US)
    daemon = start(tmp_path, clock)
    daemon._poll()
    assert by_region(daemon) == {"eu": (3, 0), "us": (2, 1), "__overflow__": (2, 0)}
    assert daemon.totals.events["by-region", "good", "region", "us"] == 2
    assert daemon.totals.overflow["by-region"] == 2
    stop(daemon)


def test_a_reload_keeps_an_unchanged_grouped_slos_groups(tmp_path):
    """SIGHUP with the same grouped SLO: the groups and their counts carry over; a changed cap starts anew."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "slotail.yaml").write_text(config(logs))
    write(logs / "api.log", T0_S, ["eu", "us", "ap"])
    daemon = start(tmp_path, ManualClock((T0_S + 1) * US))
    daemon._poll()
    daemon._reload()
    assert by_region(daemon) == {"eu": (1, 0), "us": (1, 0), "__overflow__": (1, 0)}
    (tmp_path / "slotail.yaml").write_text(config(logs, max_series=5))
    daemon._reload()
    assert by_region(daemon) == {}
    stop(daemon)


def test_checkpoints_written_as_the_store_grows_restore_every_group(tmp_path):
    """Rows written before later groups appeared (narrower) and after (room not yet used) both restore."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "slotail.yaml").write_text(config(logs, max_series=10))
    log = logs / "api.log"
    clock = ManualClock((T0_S + 100) * US)
    write(log, T0_S, ["eu"])
    daemon = start(tmp_path, clock)
    daemon._poll()
    daemon._checkpoint(force=True)  # room for 4 series, 3 registered
    for i, region in enumerate(["us", "ap", "sa", "af"]):
        write(log, T0_S + 20 * (i + 1), [region, "eu"])  # each in a bucket of its own
        daemon._poll()
        daemon._checkpoint(force=True)  # only the changed buckets, ever wider
    before = by_region(daemon)
    assert before == {"af": (1, 0), "ap": (1, 0), "eu": (5, 0), "sa": (1, 0), "us": (1, 0)}
    stop(daemon)
    daemon = start(tmp_path, clock)
    assert by_region(daemon) == before
    stop(daemon)
