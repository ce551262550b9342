"""Scrape-time export: one collector that renders the daemon's published view."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from slotail import __version__
from slotail import names as n
from slotail.engine.snapshot import Snapshot
from slotail.totals import Totals


@dataclass(frozen=True)
class View:
    """What /metrics shows: committed counters, the latest snapshot, and health gauges."""

    totals: Totals
    snapshot: Snapshot | None
    gauges: dict[str, float]  # lag, checkpoint age and duration, tick duration, files open


def _counter(name: str, doc: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for values, count in rows:
        family.add_metric(list(values), count)
    return family


def _gauge(
    name: str, doc: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float | None]]
) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in rows:
        if value is not None:  # no data is no sample, never 0
            family.add_metric(list(values), value)
    return family


def slo_metrics(snapshot: Snapshot) -> Iterator[Metric]:
    """Gauges of every SLO at the snapshot's instant."""
    slos = snapshot.slos
    yield _gauge(n.OBJECTIVE, "SLO objective as a ratio.", [n.SLO], (((s.name,), s.objective) for s in slos))
    yield _gauge(
        n.ERROR_RATIO,
        "Bad / (good + bad) in the window.",
        [n.SLO, n.WINDOW],
        (((s.name, w.label), w.error_ratio) for s in slos for w in s.windows),
    )
    yield _gauge(
        n.BURN_RATE,
        "Error ratio / (1 - objective) in the window.",
        [n.SLO, n.WINDOW],
        (((s.name, w.label), w.burn_rate) for s in slos for w in s.windows),
    )
    yield _gauge(
        n.BUDGET_REMAINING,
        "Error budget left over the SLO period (may go negative).",
        [n.SLO],
        (((s.name,), s.budget.remaining_ratio) for s in slos),
    )
    yield _gauge(
        n.ALERT_ACTIVE,
        "1 while the burn-rate alert is active.",
        [n.SLO, n.ALERT, n.SEVERITY],
        (((s.name, a.name, a.severity), float(a.active)) for s in slos for a in s.alerts),
    )
    yield _gauge(
        n.LATENCY_QUANTILE,
        "Latency at a quantile over the window (HDR, 3 significant digits).",
        [n.SLO, n.WINDOW, n.QUANTILE],
        (
            ((s.name, w, f"{float(p[1:]) / 100:g}"), v / 1e3 if v is not None else None)
            for s in slos
            for w, ps in (s.percentiles_ms or {}).items()
            for p, v in ps.items()
        ),
    )


def counter_metrics(totals: Totals) -> Iterator[Metric]:
    """Counters that survive restarts."""
    yield _counter(n.SLI_EVENTS, "SLI events by outcome.", [n.SLO, n.OUTCOME], sorted(totals.events.items()))
    yield _counter(
        n.LINES,
        "Log lines by result (parsed includes unmatched).",
        [n.SOURCE, n.RESULT],
        sorted(totals.lines.items()),
    )
    yield _counter(
        n.INVALID_LINES, "Invalid lines by reason.", [n.SOURCE, n.REASON], sorted(totals.invalid.items())
    )
    yield _counter(
        n.DROPPED,
        "Events dropped by rule (future: beyond the clock skew; too_old: older than the store holds).",
        [n.REASON],
        (((k,), v) for k, v in sorted(totals.dropped.items())),
    )
    yield _counter(
        n.LATE,
        "Events that arrived later than the lateness allowance (still counted).",
        [],
        [((), totals.health["late"])],
    )
    yield _counter(n.BYTES_READ, "Bytes read from live files.", [], [((), totals.health["bytes_read"])])
    yield _counter(
        n.ROTATIONS, "File rotations seen (rename or delete).", [], [((), totals.health["rotations"])]
    )
    yield _counter(
        n.SOURCE_ERRORS,
        "Errors opening or reading log files, by reason (each retried at the next scan).",
        [n.REASON],
        (((k,), v) for k, v in sorted(totals.source_errors.items())),
    )
    yield _counter(
        n.TRUNCATIONS, "File truncations seen (copytruncate).", [], [((), totals.health["truncations"])]
    )
    yield _counter(
        n.ALERTMANAGER_ERRORS,
        "Alertmanager pushes that failed.",
        [],
        [((), totals.health["alertmanager_errors"])],
    )
    yield _counter(
        n.CHECKPOINT_ERRORS,
        "Checkpoints that failed to commit.",
        [],
        [((), totals.health["checkpoint_errors"])],
    )


class SlotailCollector(Collector):
    """Snapshots the daemon's view at scrape time."""

    def __init__(self, view: Callable[[], View]) -> None:
        self._view = view

    def collect(self) -> Iterator[Metric]:
        view = self._view()
        yield from counter_metrics(view.totals)
        if view.snapshot is not None:
            yield from slo_metrics(view.snapshot)
        docs = {
            n.LAG: "Seconds between now and the newest event time seen.",
            n.CHECKPOINT_AGE: "Seconds since the state was last known durable.",
            n.CHECKPOINT_DURATION: "Seconds the last checkpoint commit took.",
            n.TICK_DURATION: "Seconds the last engine tick took.",
            n.FILES_OPEN: "Log files open for reading.",
            n.STORE_BYTES: "Bytes in the store's arrays (histograms grow until their rings are full).",
        }
        for name, doc in docs.items():
            yield _gauge(name, doc, [], [((), view.gauges.get(name))])
        info = GaugeMetricFamily(n.BUILD_INFO, "slotail version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info


def registry_for(view: Callable[[], View]) -> CollectorRegistry:
    """An explicit registry holding only slotail's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SlotailCollector(view))
    return registry
