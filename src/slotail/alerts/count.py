"""Count alerts: more than `bad_count` bad events in a window."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

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
    windows_label,
    windows_text,
)
from slotail.outcomes import BAD

if TYPE_CHECKING:
    from slotail.config.model import SLO, AlertRule, AlertSpec
    from slotail.engine.engine import Plan
    from slotail.engine.snapshot import AlertState, SLOStatus


class CountFields(Fields):
    bad_count: int | None = Field(default=None, ge=0)


class BadCount(Kind):
    """Active while the window holds more than `bad_count` bad events."""

    fields = CountFields
    triggers = ("bad_count",)
    alertname = "SLOBadEvents"

    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        return Resolved(threshold=float(cast(CountFields, spec).bad_count or 0))

    def condition(self, rule: AlertRule, plan: Plan, reading: Reading) -> Bools:
        enough = reading.burn(rule.long_s)[1][:, plan.sid] >= rule.min_events
        return (reading.counts(rule.long_s)[:, plan.sid, BAD] > rule.threshold) & enough

    def promql(self, q: PromQL, rule: AlertRule) -> str:
        return f"{q.events('bad', rule.long_s)} > {rule.threshold:g}" + q.enough_events(rule)

    def describe(self, slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
        limit = f"{rule.threshold:g} bad events in {windows_text(rule)}"
        return (
            f"{slo.name} has more than {limit}",
            f"{objective_text(slo)} has {value} bad events in {windows_text(rule)}.",
        )

    def observed(self, status: SLOStatus, alert: AlertState) -> str:
        window = long_window(status, alert)
        return "?" if window is None else str(window.bad)

    def when(self, alert: AlertState) -> str:
        return f"> {alert.threshold:g} bad in {windows_label(alert)}"
