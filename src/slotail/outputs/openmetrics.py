"""`backfill --openmetrics OUT`: the metrics a sidecar would have exported, at every step, timestamped.

The output is OpenMetrics text that `promtool tsdb create-blocks-from openmetrics`
imports: each family's samples are contiguous, and so are each series' within its
family, in time order (every round of steps spools a run per series to one
temporary file per family; `write` joins each series' runs), every sample
carries its step's timestamp, and the file ends with `# EOF`. A window with no events has no sample
at that step (no data, not 0). Events that arrive after their step was evaluated
(late, beyond --lateness) are missing from the cumulative counters.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np

from slotail import names as n
from slotail.engine.engine import Engine, Evaluation, burn_rates
from slotail.outcomes import BAD, GOOD, NAMES
from slotail.outputs.prometheus import slo_label_pairs
from slotail.timeutil import US

FAMILIES = (
    (n.SLI_EVENTS, "counter", "SLI events by outcome."),
    (n.ERROR_RATIO, "gauge", "Bad / (good + bad) in the window."),
    (n.BURN_RATE, "gauge", "Error ratio / (1 - objective) in the window."),
    (n.BUDGET_REMAINING, "gauge", "Error budget left over the SLO period."),
    (n.ALERT_ACTIVE, "gauge", "1 while the burn-rate alert is active."),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)


class OpenMetricsWriter:
    """Collects evaluations step by step; `write` produces the file."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Closed by write(); one spool per family keeps each family contiguous in the output.
        self._spool = {name: tempfile.TemporaryFile("w+b") for name, _, _ in FAMILIES}  # noqa: SIM115
        # Where each series' runs lie in its family's spool, series in the order they first came.
        self._runs: dict[str, dict[str, list[tuple[int, int]]]] = {name: {} for name, _, _ in FAMILIES}
        self._totals = np.zeros((engine.store.n_series, 3), np.int64)
        self._last_us: int | None = None

    def add(self, evaluation: Evaluation) -> None:
        """Spool every family's samples for the evaluated steps."""
        times = evaluation.times_us
        if not len(times):
            return
        stamps = [f"{t // US}.{t % US // 1000:03d}" for t in times.tolist()]
        self._events(times, stamps)
        for plan in self.engine.plans:
            slo = slo_label_pairs(plan.slo.name, plan.labels)
            for window in plan.windows:
                data = evaluation.counts[window][:, plan.sid]
                ratio, burn = burn_rates(data[:, GOOD], data[:, BAD], plan.budget_ratio)
                labels = _labels((*slo, (n.WINDOW, window.label)))
                self._gauge(n.ERROR_RATIO, labels, ratio, stamps)
                self._gauge(n.BURN_RATE, labels, burn, stamps)
                if window == plan.period:
                    self._gauge(n.BUDGET_REMAINING, _labels(slo), 1 - burn, stamps)
            for rule in plan.rules:
                active = evaluation.active[(plan.sid, rule.name)].astype(np.float64)
                labels = _labels((*slo, (n.ALERT, rule.name), (n.SEVERITY, rule.severity)))
                self._gauge(n.ALERT_ACTIVE, labels, active, stamps)

    def _events(self, times: np.ndarray, stamps: list[str]) -> None:
        """Cumulative event counters: what each step adds since the one before."""
        first = self._last_us if self._last_us is not None else int(times[0]) - 10**12
        starts = np.r_[first, times[:-1]].astype(np.int64)
        increments = self.engine.store.window_counts(0, starts, times)
        if len(self._totals) < increments.shape[1]:  # the store grew: new group series start at 0
            self._totals = np.vstack(
                (self._totals, np.zeros((increments.shape[1] - len(self._totals), 3), np.int64))
            )
        cumulative = self._totals + np.cumsum(increments, axis=0)
        self._totals, self._last_us = cumulative[-1], int(times[-1])
        for plan in self.engine.plans:
            slo = slo_label_pairs(plan.slo.name, plan.labels)
            for outcome, name in enumerate(NAMES):
                labels = _labels((slo[0], (n.OUTCOME, name), *slo[1:]))
                values = cumulative[:, plan.sid, outcome].tolist()
                self._run(
                    n.SLI_EVENTS,
                    labels,
                    (
                        f"{n.SLI_EVENTS}_total{{{labels}}} {v} {s}\n"
                        for v, s in zip(values, stamps, strict=True)
                    ),
                )

    def _gauge(self, family: str, labels: str, values: np.ndarray, stamps: list[str]) -> None:
        self._run(
            family,
            labels,
            (
                f"{family}{{{labels}}} {v!r} {s}\n"
                for v, s in zip(values.tolist(), stamps, strict=True)
                if v == v  # NaN: no data, no sample
            ),
        )

    def _run(self, family: str, labels: str, samples: Iterable[str]) -> None:
        """Spool one series' samples of a round, remembering where they lie."""
        out: IO[bytes] = self._spool[family]
        start = out.tell()
        out.write("".join(samples).encode())
        if out.tell() > start:
            self._runs[family].setdefault(labels, []).append((start, out.tell()))

    def write(self, path: Path) -> None:
        """Join the families into `path` (atomically) and close the spools."""
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            for name, kind, doc in FAMILIES:
                out.write(f"# TYPE {name} {kind}\n# HELP {name} {doc}\n".encode())
                spool = self._spool[name]
                for runs in self._runs[name].values():
                    for start, end in runs:
                        spool.seek(start)
                        out.write(spool.read(end - start))
                spool.close()
            out.write(b"# EOF\n")
        partial.replace(path)
