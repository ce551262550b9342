"""Scrape-time export: one collector that renders the daemon's published view.

The sidecar serves `MetricsBody`: the same text, with the snapshot's gauges (most
of it) rendered once per snapshot instead of at every scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from slotail import __version__
from slotail import names as n
from slotail.config.model import label_name
from slotail.engine.snapshot import SLOStatus, Snapshot
from slotail.totals import EventKey, Totals


@dataclass(frozen=True)
class View:
    """What /metrics shows: committed counters, the latest snapshot, and health gauges."""

    totals: Totals | None  # None: no counters yet (the sidecar's state is loading)
    snapshot: Snapshot | None
    gauges: dict[str, float]  # lag, checkpoint age and duration, tick duration, files open


Rows = Iterable[tuple[dict[str, str], float | None]]


def _counter(name: str, doc: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    return _counter_family(name, doc, ((dict(zip(labels, values, strict=True)), v) for values, v in rows))


def _counter_family(name: str, doc: str, rows: Iterable[tuple[dict[str, str], float]]) -> Metric:
    """A counter whose samples may carry different label names (grouped SLOs add theirs)."""
    family = CounterMetricFamily(name, doc)
    for labels, count in rows:
        family.add_sample(family.name + "_total", labels, count)
    return family


def _gauge(
    name: str, doc: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float | None]]
) -> Metric:
    return _gauge_family(name, doc, ((dict(zip(labels, values, strict=True)), v) for values, v in rows))


def _gauge_family(name: str, doc: str, rows: Rows) -> Metric:
    family = GaugeMetricFamily(name, doc)
    for labels, value in rows:
        if value is not None:  # no data is no sample, never 0
            family.add_sample(name, labels, value)
    return family


def slo_label_pairs(name: str, labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """(`slo`, name) and, for a grouped SLO's series, its group labels as Prometheus names them."""
    return ((n.SLO, name), *((label_name(path), value) for path, value in labels))


def series_labels(slo: SLOStatus) -> dict[str, str]:
    """`slo` and, for a grouped SLO's series, its group labels."""
    return dict(slo_label_pairs(slo.name, slo.labels))


def slo_metrics(snapshot: Snapshot) -> Iterator[Metric]:
    """Gauges of every SLO series at the snapshot's instant."""
    slos = [(series_labels(s), s) for s in snapshot.slos]
    yield _gauge_family(n.OBJECTIVE, "SLO objective as a ratio.", ((k, s.objective) for k, s in slos))
    yield _gauge_family(
        n.ERROR_RATIO,
        "Bad / (good + bad) in the window.",
        ((k | {n.WINDOW: w.label}, w.error_ratio) for k, s in slos for w in s.windows),
    )
    yield _gauge_family(
        n.BURN_RATE,
        "Error ratio / (1 - objective) in the window.",
        ((k | {n.WINDOW: w.label}, w.burn_rate) for k, s in slos for w in s.windows),
    )
    yield _gauge_family(
        n.BUDGET_REMAINING,
        "Error budget left over the SLO period (may go negative).",
        ((k, s.budget.remaining_ratio) for k, s in slos),
    )
    yield _gauge_family(
        n.ALERT_ACTIVE,
        "1 while the burn-rate alert is active.",
        ((k | {n.ALERT: a.name, n.SEVERITY: a.severity}, float(a.active)) for k, s in slos for a in s.alerts),
    )
    yield _gauge_family(
        n.LATENCY_QUANTILE,
        "Latency at a percentile over the window (HDR, 3 significant digits).",
        (
            (k | {n.WINDOW: w, n.PERCENTILE: p[1:]}, v / 1e3 if v is not None else None)
            for k, s in slos
            for w, ps in (s.percentiles_ms or {}).items()
            for p, v in ps.items()
        ),
    )


def event_labels(key: EventKey) -> dict[str, str]:
    """`slo`, `outcome` and the group labels of a totals key (slo, outcome, field, value, ...)."""
    pairs = key[2:]
    groups = {label_name(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}
    return {n.SLO: key[0], n.OUTCOME: key[1], **groups}


def counter_metrics(totals: Totals) -> Iterator[Metric]:
    """Counters that survive restarts."""
    yield _counter_family(
        n.SLI_EVENTS,
        "SLI events by outcome.",
        ((event_labels(key), count) for key, count in sorted(totals.events.items())),
    )
    yield _counter(  # samples only for grouped SLOs
        n.SERIES_OVERFLOW,
        "Events of a grouped SLO folded into its __overflow__ series (over max_series).",
        [n.SLO],
        (((slo,), count) for slo, count in sorted(totals.overflow.items())),
    )
    yield _counter(
        n.FIELD_MISMATCH,
        "Events on which a field the SLO reads was missing or of a JSON type its test never compares.",
        [n.SLO, n.FIELD, n.REASON],
        sorted(totals.mismatches.items()),
    )
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


def health_metrics(gauges: dict[str, float]) -> Iterator[Metric]:
    """The daemon's own gauges, and its version."""
    docs = {
        n.LAG: "Seconds between now and the newest event time seen.",
        n.CHECKPOINT_AGE: "Seconds since the state was last known durable.",
        n.CHECKPOINT_DURATION: "Seconds the last checkpoint commit took.",
        n.TICK_DURATION: "Seconds the last engine tick took.",
        n.FILES_OPEN: "Log files open for reading.",
        n.STORE_BYTES: "Bytes in the store's arrays (histograms grow until their rings are full).",
    }
    for name, doc in docs.items():
        yield _gauge(name, doc, [], [((), gauges.get(name))])
    info = GaugeMetricFamily(n.BUILD_INFO, "slotail version.", labels=["version"])
    info.add_metric([__version__], 1)
    yield info


class SlotailCollector(Collector):
    """Snapshots the daemon's view at scrape time."""

    def __init__(self, view: Callable[[], View]) -> None:
        self._view = view

    def collect(self) -> Iterator[Metric]:
        view = self._view()
        if view.totals is not None:
            yield from counter_metrics(view.totals)
        if view.snapshot is not None:
            yield from slo_metrics(view.snapshot)
        yield from health_metrics(view.gauges)


def registry_for(view: Callable[[], View]) -> CollectorRegistry:
    """An explicit registry holding only slotail's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SlotailCollector(view))
    return registry


class _Made(Collector):
    """Metrics already made, to render on their own."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = list(metrics)

    def collect(self) -> Iterator[Metric]:
        return iter(self._metrics)


def render(metrics: Iterable[Metric]) -> bytes:
    """Metrics in the Prometheus text format."""
    return generate_latest(_Made(metrics))


class MetricsBody:
    """What `SlotailCollector` renders, byte for byte, with the snapshot's part rendered once per snapshot."""

    def __init__(self, view: Callable[[], View]) -> None:
        self._view = view
        self._rendered: tuple[Snapshot, bytes] | None = None

    def snapshot_text(self, snapshot: Snapshot) -> bytes:
        """The snapshot's gauges as text (rendered at the first call for this snapshot)."""
        if self._rendered is None or self._rendered[0] is not snapshot:
            self._rendered = (snapshot, render(slo_metrics(snapshot)))
        return self._rendered[1]

    def __call__(self) -> bytes:
        view = self._view()
        snapshot = b"" if view.snapshot is None else self.snapshot_text(view.snapshot)
        counters = b"" if view.totals is None else render(counter_metrics(view.totals))
        return counters + snapshot + render(health_metrics(view.gauges))
