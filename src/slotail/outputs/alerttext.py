"""Names, labels and annotations of slotail's alerts, worded once for Prometheus rules and Alertmanager."""

from __future__ import annotations

from slotail import names as n
from slotail.alerts.registry import KINDS
from slotail.config.model import SLO, AlertRule
from slotail.timeutil import format_duration


def alert_name(rule: AlertRule) -> str:
    """The alertname of a rule's kind (every burn-rate alert is SLOErrorBudgetBurn)."""
    return KINDS[rule.kind].alertname


def burn_labels(slo: SLO, rule: AlertRule) -> dict[str, str]:
    """Exactly slo, alert and severity, plus the labels the config adds."""
    return {n.SLO: slo.name, n.ALERT: rule.name, n.SEVERITY: rule.severity, **dict(rule.labels)}


def burn_annotations(slo: SLO, rule: AlertRule, value: str) -> dict[str, str]:
    """summary, description (with the observed value as `value`) and runbook; the config's win."""
    summary, description = KINDS[rule.kind].describe(slo, rule, value)
    look = f" in the last {format_duration(rule.long_s)}" if rule.long_s else ""
    runbook = f"Look at what changed for {slo.name}{look}; "
    runbook += "the slotail status page shows the burn rate per window."
    return {
        "summary": rule.summary or summary,
        "description": description,
        "runbook": rule.runbook or runbook,
    }
