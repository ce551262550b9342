"""Labels and annotations of a burn-rate alert, worded once for Prometheus rules and Alertmanager."""

from __future__ import annotations

from slotail import names as n
from slotail.config.model import SLO, AlertRule
from slotail.timeutil import format_duration

BURN_ALERT = "SLOErrorBudgetBurn"


def burn_labels(slo: SLO, rule: AlertRule) -> dict[str, str]:
    """Exactly slo, alert and severity, plus the labels the config adds."""
    return {n.SLO: slo.name, n.ALERT: rule.name, n.SEVERITY: rule.severity, **dict(rule.labels)}


def burn_annotations(slo: SLO, rule: AlertRule, value: str) -> dict[str, str]:
    """summary, description (with the burn rate as `value`) and runbook."""
    windows = format_duration(rule.long_s) + (f" and {format_duration(rule.short_s)}" if rule.short_s else "")
    return {
        "summary": f"{slo.name} is burning its error budget at {rule.factor:g}x or more",
        "description": f"{slo.name} (objective {slo.objective:g}%) burns its error budget at {value}x over "
        f"{windows}; the alert '{rule.name}' fires at {rule.factor:g}x.",
        "runbook": f"Look at what changed for {slo.name} in the last {format_duration(rule.long_s)}; "
        "the slotail status page shows the burn rate per window.",
    }
