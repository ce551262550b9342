"""Budget alerts: the error budget remaining over the SLO's period below a share."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
from pydantic import Field

from slotail.alerts.kind import TOLERANCE, Bools, Fields, Kind, PromQL, Reading, Resolved, objective_text

if TYPE_CHECKING:
    from slotail.config.model import SLO, AlertRule, AlertSpec
    from slotail.engine.engine import Plan
    from slotail.engine.snapshot import AlertState, SLOStatus


class BudgetFields(Fields):
    budget_below: float | None = Field(default=None, gt=0, le=100)


class BudgetBelow(Kind):
    """Active while less than `budget_below` percent of the error budget remains over the period
    (with at least one event in it)."""

    fields = BudgetFields
    triggers = ("budget_below",)
    alertname = "SLOErrorBudgetLow"

    def check(self, spec: AlertSpec) -> None:
        if spec.long_window is not None or spec.window is not None or spec.short_window is not None:
            raise ValueError("a `budget_below` alert reads the SLO's period; it takes no window")

    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        return Resolved(threshold=(cast(BudgetFields, spec).budget_below or 0.0) / 100)

    def condition(self, rule: AlertRule, plan: Plan, reading: Reading) -> Bools:
        consumed, events = (a[:, plan.sid] for a in reading.period_burn(plan))
        with np.errstate(invalid="ignore"):
            # The tolerance of `reaches`: 1 - 8/10 (0.19999999999999996) is not below 20%.
            below = 1 - consumed < rule.threshold * (1 - TOLERANCE)
            return below & (events >= max(rule.min_events, 1))

    def promql(self, q: PromQL, rule: AlertRule) -> str:
        return f"{q.budget()} < {rule.threshold:g}"

    def describe(self, slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
        below = f"{rule.threshold * 100:g}%"
        return (
            f"{slo.name} has less than {below} of its error budget left",
            f"{objective_text(slo)} has {value} left.",
        )

    def observed(self, status: SLOStatus, alert: AlertState) -> str:
        remaining = status.budget.remaining_ratio
        return "?" if remaining is None else f"{remaining:.1%}"

    def when(self, alert: AlertState) -> str:
        return f"budget < {alert.threshold * 100:g}%"
