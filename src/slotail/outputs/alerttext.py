"""Names, labels and annotations of slotail's alerts, worded once for Prometheus rules and Alertmanager."""

from __future__ import annotations

from slotail import names as n
from slotail.config.model import SLO, AlertKind, AlertRule
from slotail.timeutil import format_duration

BURN_ALERT = "SLOErrorBudgetBurn"
ALERT_NAMES = {
    AlertKind.BURN: BURN_ALERT,
    AlertKind.COUNT: "SLOBadEvents",
    AlertKind.PERCENTILE: "SLOLatencyPercentile",
    AlertKind.BUDGET: "SLOErrorBudgetLow",
}


def alert_name(rule: AlertRule) -> str:
    """The alertname of a rule's kind (every burn-rate alert is SLOErrorBudgetBurn)."""
    return ALERT_NAMES[rule.kind]


def burn_labels(slo: SLO, rule: AlertRule) -> dict[str, str]:
    """Exactly slo, alert and severity, plus the labels the config adds."""
    return {n.SLO: slo.name, n.ALERT: rule.name, n.SEVERITY: rule.severity, **dict(rule.labels)}


def _windows(rule: AlertRule) -> str:
    return format_duration(rule.long_s) + (f" and {format_duration(rule.short_s)}" if rule.short_s else "")


def _unit(slo: SLO) -> str:
    return slo.sli.latency.unit if slo.sli.latency is not None else "us"


def _describe(slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
    """(summary, description) of a rule, `value` standing for the observed value."""
    name, objective = slo.name, f"{slo.name} (objective {slo.objective:g}%)"
    if rule.kind is AlertKind.COUNT:
        limit = f"{rule.threshold:g} bad events in {_windows(rule)}"
        return f"{name} has more than {limit}", f"{objective} has {value} bad events in {_windows(rule)}."
    if rule.kind is AlertKind.PERCENTILE:
        scale = slo.sli.latency.scale_to_us if slo.sli.latency is not None else 1.0
        above = f"{rule.threshold / scale:g} {_unit(slo)}"
        p = f"p{rule.percentile:g}"
        return f"{name} {p} latency is above {above}", f"{objective}: {p} over {_windows(rule)} is {value}."
    if rule.kind is AlertKind.BUDGET:
        below = f"{rule.threshold * 100:g}%"
        return f"{name} has less than {below} of its error budget left", f"{objective} has {value} left."
    return (
        f"{name} is burning its error budget at {rule.factor:g}x or more",
        f"{objective} burns its error budget at {value}x over {_windows(rule)}; "
        f"the alert '{rule.name}' fires at {rule.factor:g}x.",
    )


def burn_annotations(slo: SLO, rule: AlertRule, value: str) -> dict[str, str]:
    """summary, description (with the observed value as `value`) and runbook; the config's win."""
    summary, description = _describe(slo, rule, value)
    look = f" in the last {format_duration(rule.long_s)}" if rule.long_s else ""
    runbook = f"Look at what changed for {slo.name}{look}; "
    runbook += "the slotail status page shows the burn rate per window."
    return {
        "summary": rule.summary or summary,
        "description": description,
        "runbook": rule.runbook or runbook,
    }
