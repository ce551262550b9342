"""Percentile alerts: a latency SLI's percentile over a window above a threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from pydantic import Field

from slotail.alerts.kind import (
    Bools,
    Fields,
    Kind,
    PromQL,
    Reading,
    Resolved,
    objective_text,
    windows_label,
    windows_text,
)

if TYPE_CHECKING:
    from slotail.config.model import SLO, AlertRule, AlertSpec
    from slotail.engine.engine import Plan
    from slotail.engine.snapshot import AlertState


class PercentileFields(Fields):
    percentile: float | None = Field(default=None, gt=0, le=100)
    above: float | None = Field(default=None, gt=0)


class Percentile(Kind):
    """Active while the `percentile` of a latency SLI over the window is above `above` (in the
    SLI's unit). Its rule fires while any sidecar has it active: no PromQL combines pods' percentiles
    from counters, so each sidecar reads its own pod's histogram."""

    fields = PercentileFields
    triggers = ("percentile",)
    alertname = "SLOLatencyPercentile"

    def check_keys(self, spec: AlertSpec) -> None:
        own = cast(PercentileFields, spec)
        if (own.percentile is None) != (own.above is None):
            raise ValueError("a percentile alert takes `percentile` and `above` (in the SLI's unit) together")

    def misfit(self, slo: SLO) -> tuple[str, str] | None:
        if slo.sli.latency is None:
            return "percentile", f"a percentile alert needs a latency SLI; {slo.name!r} has none"
        return None

    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        own = cast(PercentileFields, spec)
        latency = slo.sli.latency
        threshold = (own.above or 0.0) * (latency.scale_to_us if latency is not None else 1.0)
        return Resolved(threshold=threshold, percentile=own.percentile)

    def condition(self, rule: AlertRule, plan: Plan, reading: Reading) -> Bools:
        values = reading.percentile(plan, rule.long_s, rule.percentile or 0.0)
        events = reading.burn(rule.long_s)[1][:, plan.sid]
        with np.errstate(invalid="ignore"):
            return (values > rule.threshold) & (events >= rule.min_events)

    def promql(self, q: PromQL, rule: AlertRule) -> str:
        return q.sidecars_active(rule)

    def promql_for(self, rule: AlertRule) -> int:
        return 0  # the sidecars have applied `for` (and `min_events`) already

    def describe(self, slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
        latency = slo.sli.latency
        scale, unit = (latency.scale_to_us, latency.unit) if latency is not None else (1.0, "us")
        above, p = f"{rule.threshold / scale:g} {unit}", f"p{rule.percentile:g}"
        return (
            f"{slo.name} {p} latency is above {above}",
            f"{objective_text(slo)}: {p} over {windows_text(rule)} is {value}.",
        )

    def when(self, alert: AlertState) -> str:
        return f"latency > {alert.threshold / 1e3:g} ms over {windows_label(alert)}"

    def document(self, alert: AlertState) -> dict[str, Any]:
        return {"burn_rate": None, "kind": alert.kind.value, "threshold": alert.threshold / 1e3}  # in ms
