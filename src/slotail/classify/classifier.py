"""Turn parsed objects into observations: which SLO series, good/bad/excluded, and latency."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slotail.classify.match import Predicate, compile_expr
from slotail.config.model import SLO, Config, LatencySpec, SLIKind
from slotail.outcomes import BAD, EXCLUDED, GOOD
from slotail.parse.lines import MISSING, ParsedBatch, field_getter

Outcome = tuple[int, int]  # (outcome, latency in µs or -1)
Rule = Callable[[dict[str, Any]], Outcome | None]

LATENCY_CAP_US = float(1 << 53)  # keeps absurd latencies inside int64; the store clamps further
_GOOD: Outcome = (GOOD, -1)
_BAD: Outcome = (BAD, -1)
_EXCLUDED: Outcome = (EXCLUDED, -1)


@dataclass(frozen=True)
class Observations:
    """One batch of observations as numpy columns."""

    series: npt.NDArray[np.int32]
    ts_us: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.int8]
    latency_us: npt.NDArray[np.int64]  # -1 where the SLI has no latency
    unmatched: int

    def __len__(self) -> int:
        return len(self.series)

    def select(self, which: npt.NDArray[Any] | slice) -> Observations:
        """The observations a mask, index array or slice picks (unmatched lines stay behind)."""
        return Observations(
            self.series[which], self.ts_us[which], self.outcome[which], self.latency_us[which], 0
        )

    @staticmethod
    def empty() -> Observations:
        return Observations(
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, np.int8),
            np.empty(0, np.int64),
            0,
        )


def _optional(expr: Any) -> Predicate | None:
    return compile_expr(expr) if expr is not None else None


def _ratio_rule(
    events: Predicate, good: Predicate | None, bad: Predicate | None, exclude: Predicate | None
) -> Rule:
    def rule(obj: dict[str, Any]) -> Outcome | None:
        if not events(obj):
            return None
        if exclude is not None and exclude(obj):
            return _EXCLUDED
        if bad is not None:
            if bad(obj):
                return _BAD
            return _GOOD if good is None or good(obj) else None
        return _GOOD if good(obj) else _BAD  # type: ignore[misc]

    return rule


def _pair_rule(good: Predicate, bad: Predicate, exclude: Predicate | None) -> Rule:
    def rule(obj: dict[str, Any]) -> Outcome | None:
        is_bad = bad(obj)
        if not is_bad and not good(obj):
            return None
        if exclude is not None and exclude(obj):
            return _EXCLUDED
        return _BAD if is_bad else _GOOD

    return rule


def _latency_rule(events: Predicate, exclude: Predicate | None, spec: LatencySpec) -> Rule:
    get, threshold, scale = field_getter(spec.field), spec.threshold, spec.scale_to_us

    def rule(obj: dict[str, Any]) -> Outcome | None:
        if not events(obj):
            return None
        if exclude is not None and exclude(obj):
            return _EXCLUDED
        value = get(obj)
        kind = type(value)
        if value is MISSING or not (kind is int or kind is float) or not 0 <= value < math.inf:
            return _EXCLUDED  # no usable latency
        return (BAD if value > threshold else GOOD, round(min(value * scale, LATENCY_CAP_US)))

    return rule


def compile_rule(slo: SLO) -> Rule:
    """The classification rule of one SLO."""
    sli = slo.sli
    exclude = _optional(sli.exclude)
    if sli.kind is SLIKind.LATENCY:
        assert sli.latency is not None
        return _latency_rule(compile_expr(sli.events), exclude, sli.latency)
    if sli.kind is SLIKind.EVENT_PAIR:
        return _pair_rule(compile_expr(sli.good), compile_expr(sli.bad), exclude)
    return _ratio_rule(compile_expr(sli.events), _optional(sli.good), _optional(sli.bad), exclude)


class Classifier:
    """Applies every SLO's compiled rule to each parsed object; series i is `config.slos[i]`."""

    def __init__(self, config: Config) -> None:
        self.rules = [(i, compile_rule(slo)) for i, slo in enumerate(config.slos)]

    def classify(self, batch: ParsedBatch) -> Observations:
        series: list[int] = []
        stamps: list[int] = []
        outcomes: list[int] = []
        latencies: list[int] = []
        unmatched = 0
        rules = self.rules
        for obj, ts in zip(batch.events, batch.ts_us, strict=True):
            hit = False
            for sid, rule in rules:
                found = rule(obj)
                if found is not None:
                    series.append(sid)
                    stamps.append(ts)
                    outcomes.append(found[0])
                    latencies.append(found[1])
                    hit = True
            if not hit:
                unmatched += 1
        return Observations(
            np.array(series, np.int32),
            np.array(stamps, np.int64),
            np.array(outcomes, np.int8),
            np.array(latencies, np.int64),
            unmatched,
        )
