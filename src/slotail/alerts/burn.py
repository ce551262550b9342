"""Burn-rate alerts: the error ratio over one or two windows, in budgets, reaching a factor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field

from slotail.alerts.kind import (
    Bools,
    Fields,
    Kind,
    PromQL,
    Reading,
    Resolved,
    long_window,
    objective_text,
    one_window,
    reaches,
    windows_label,
    windows_text,
)

if TYPE_CHECKING:
    from slotail.config.model import SLO, AlertRule, AlertSpec
    from slotail.engine.engine import Plan
    from slotail.engine.snapshot import AlertState, SLOStatus


class BurnFields(Fields):
    burn_rate: float | None = Field(default=None, gt=0)
    budget_percent: float | None = Field(default=None, gt=0, le=100)


class BurnRate(Kind):
    """Active while the burn rate over the long window, and over the short one when given, reaches
    the factor: `burn_rate`, or `budget_percent` of the period's budget spent within the long window."""

    fields: ClassVar[type[Fields]] = BurnFields  # (typed as the base's: SLIBelow has its own)
    triggers: ClassVar[tuple[str, ...]] = ("burn_rate", "budget_percent")
    alertname = "SLOErrorBudgetBurn"

    def check(self, spec: AlertSpec) -> None:
        one_window(spec)
        if spec.short_window is not None and spec.short_window >= spec.lookback:
            raise ValueError("expected `short_window` shorter than `long_window`")

    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        own = cast(BurnFields, spec)
        if own.burn_rate is not None:
            return Resolved(factor=own.burn_rate)
        budget_percent = own.budget_percent or 0.0
        # budget_percent of the period's budget spent within the long window.
        return Resolved(factor=budget_percent / 100 * period_s / spec.lookback)

    def condition(self, rule: AlertRule, plan: Plan, reading: Reading) -> Bools:
        # Most rules are every SLO's (a window set): each is computed once for every series.
        key = ("burn", rule.long_s, rule.short_s, rule.factor, rule.min_events)
        return reading.shared(key, lambda: self._every_series(rule, reading))[:, plan.sid]

    def _every_series(self, rule: AlertRule, reading: Reading) -> Bools:
        long_burn, long_events = reading.burn(rule.long_s)
        met = reaches(long_burn, rule.factor) & (long_events >= rule.min_events)
        if rule.short_s:
            met &= reaches(reading.burn(rule.short_s)[0], rule.factor)
        return met

    def windows(self, rule: AlertRule) -> tuple[int, ...]:
        return (rule.long_s, rule.short_s) if rule.short_s else (rule.long_s,)

    def promql(self, q: PromQL, rule: AlertRule) -> str:
        condition = f"{q.burn(rule.long_s)} >= {rule.factor:g}"
        if rule.short_s:
            condition += f"\nand\n{q.burn(rule.short_s)} >= {rule.factor:g}"
        return condition + q.enough_events(rule)

    def describe(self, slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
        return (
            f"{slo.name} is burning its error budget at {rule.factor:g}x or more",
            f"{objective_text(slo)} burns its error budget at {value}x over {windows_text(rule)}; "
            f"the alert '{rule.name}' fires at {rule.factor:g}x.",
        )

    def observed(self, status: SLOStatus, alert: AlertState) -> str:
        window = long_window(status, alert)
        return "?" if window is None or window.burn_rate is None else f"{window.burn_rate:.2f}"

    def when(self, alert: AlertState) -> str:
        return f"{alert.factor:g}x over {windows_label(alert)}"

    def document(self, alert: AlertState) -> dict[str, Any]:
        return {"burn_rate": alert.factor}

    def burn_mark(self, alert: AlertState) -> float | None:
        return alert.factor
