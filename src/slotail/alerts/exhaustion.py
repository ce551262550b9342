"""Exhaustion-time alerts: at the burn rate of the last window, the budget left runs out soon."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from slotail.alerts.kind import (
    TOLERANCE,
    Bools,
    Fields,
    Kind,
    PromQL,
    Reading,
    Resolved,
    long_window,
    objective_text,
    windows_label,
    windows_text,
)
from slotail.durations import Duration
from slotail.timeutil import format_duration

if TYPE_CHECKING:
    from slotail.config.model import SLO, AlertRule, AlertSpec
    from slotail.engine.engine import Plan
    from slotail.engine.snapshot import AlertState, SLOStatus


class ExhaustionFields(Fields):
    exhausts_within: Duration | None = None


class ExhaustsWithin(Kind):
    """Active while, at the burn rate over the `window`, the error budget left over the period runs out
    within `exhausts_within`: remaining ratio × period ÷ burn rate ≤ exhausts_within (Honeycomb's
    exhaustion time). It needs budget left and a burn rate above 0: a budget already spent is what
    `budget_below` and SLOErrorBudgetExhausted say, so this alert resolves when the budget runs out."""

    fields = ExhaustionFields
    triggers = ("exhausts_within",)
    alertname = "SLOErrorBudgetExhaustion"

    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        within = cast(ExhaustionFields, spec).exhausts_within or 1
        # `factor`: the burn rate that spends a whole budget within `exhausts_within` (for the rules).
        return Resolved(factor=period_s / within, threshold=float(within))

    def condition(self, rule: AlertRule, plan: Plan, reading: Reading) -> Bools:
        burn, events = (a[:, plan.sid] for a in reading.burn(rule.long_s))
        remaining = 1 - reading.period_burn(plan)[0][:, plan.sid]
        period_s = reading.period_lengths(plan)
        with np.errstate(invalid="ignore"):  # NaN (no events) never holds
            soon = remaining * period_s <= rule.threshold * burn * (1 + TOLERANCE)
            return soon & (remaining > 0) & (burn > 0) & (events >= rule.min_events)

    def windows(self, rule: AlertRule) -> tuple[int, ...]:
        return (rule.long_s,)

    def promql(self, q: PromQL, rule: AlertRule) -> str:
        # Hours to exhaustion, with the period at its nominal length (a calendar month as 30 days).
        period_h = rule.factor * rule.threshold / 3600
        hours = f"{q.budget()}\n/\n{q.burn(rule.long_s)}\n* {period_h:.12g}"
        return f"{hours} <= {rule.threshold / 3600:.12g}\nand\n{q.budget()} > 0" + q.enough_events(rule)

    def describe(self, slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
        within = format_duration(int(rule.threshold))
        return (
            f"{slo.name} will run out of error budget within {within}",
            f"At its burn rate over the last {windows_text(rule)}, {objective_text(slo)} runs out of "
            f"error budget in {value} h; the alert '{rule.name}' fires at {within} or less.",
        )

    def observed(self, status: SLOStatus, alert: AlertState) -> str:
        window = long_window(status, alert)
        hours = window.exhaustion_hours if window is not None else None
        return "?" if hours is None else f"{hours:.2f}"

    def when(self, alert: AlertState) -> str:
        return f"budget gone ≤ {format_duration(int(alert.threshold))} at {windows_label(alert)} burn"

    def document(self, alert: AlertState) -> dict[str, Any]:
        return {"burn_rate": None, "kind": alert.kind.value, "exhausts_within_hours": alert.threshold / 3600}
