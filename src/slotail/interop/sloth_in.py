"""Sloth `prometheus/v1` specs into slotail SLOs: objectives, page and ticket alerts, labels.

Sloth gives each SLO a page and a ticket alert over Google's multiwindow sets for a 30-day period
(`--default-slo-period`, internal/alert/windows/google-30d.yaml); slotail's `google-30d` window set is
the same four alerts, so each enabled alert becomes its two windows with Sloth's labels and annotations.
"""

from __future__ import annotations

from typing import Any

from slotail.config.load import load_window_set
from slotail.interop.documents import Notes, Where
from slotail.interop.newconfig import NewSLO
from slotail.interop.shared import UniqueNames, slotail_name
from slotail.interop.sloth_spec import SLI, SLO, SlothSpec

PERIOD = "30d"  # Sloth's default SLO period
WINDOWS = "google-30d"  # Sloth's default alert windows for it
ANNOTATIONS = {"summary": "summary", "runbook": "runbook"}  # Sloth annotation -> slotail alert key


def import_sloth(spec: SlothSpec, where: Where, names: UniqueNames, notes: Notes) -> list[NewSLO]:
    """Each SLO of one Sloth spec, its notes added to `notes`."""
    notes.add(where, ("service",), f"slotail configs have no services: {spec.service!r} is not carried")
    if spec.slo_plugins is not None and spec.slo_plugins.chain:
        notes.add(where, ("slo_plugins",), "Sloth's SLO plugins have no slotail form: not carried")
    windows = load_window_set(WINDOWS)
    return [_slo(spec, i, slo, where, names, notes, windows) for i, slo in enumerate(spec.slos)]


def _slo(
    spec: SlothSpec,
    i: int,
    slo: SLO,
    where: Where,
    names: UniqueNames,
    notes: Notes,
    windows: list[dict[str, Any]],
) -> NewSLO:
    loc = ("slos", i)
    new = NewSLO(names.take(slotail_name(slo.name)), slo.objective, where, PERIOD, slo.description or "")
    new.sli = {"placeholder": _placeholder(slo.sli, (*loc, "sli"), where, notes, new.name)}
    if slo.objective >= 100:
        notes.add(
            where, (*loc, "objective"), "slotail needs an objective below 100%: fix it by hand", new.name
        )
    if slo.plugins is not None and slo.plugins.chain:
        notes.add(where, (*loc, "plugins"), "Sloth's SLO plugins have no slotail form: not carried", new.name)
    labels = spec.labels | slo.labels
    new.alerts = _alerts(slo, labels, (*loc, "alerting"), where, notes, windows)
    if not new.alerts and labels:
        message = "slotail puts labels on alerts, and this SLO has none: its labels are not carried"
        notes.add(where, (*loc, "labels"), message, new.name)
    return new


def _placeholder(
    sli: SLI, loc: tuple[str | int, ...], where: Where, notes: Notes, slo: str
) -> dict[str, Any]:
    """The SLI's queries, kept for the person who writes its log matchers."""
    if sli.events is not None:
        placeholder: dict[str, Any] = {
            "error_query": sli.events.error_query,
            "total_query": sli.events.total_query,
        }
        kind = "events"
    elif sli.raw is not None:
        placeholder, kind = {"error_ratio_query": sli.raw.error_ratio_query}, "raw"
        notes.add(where, (*loc, kind), "a ratio computed by a query has no events to count", slo)
    else:
        assert sli.plugin is not None
        placeholder, kind = {"plugin": sli.plugin.id, "options": sli.plugin.options}, "plugin"
        notes.add(where, (*loc, kind), f"Sloth SLI plugin {sli.plugin.id!r} has no slotail form", slo)
    message = "a Prometheus query cannot become log matchers: `sli` is a placeholder to fill in"
    notes.add(where, (*loc, kind), message, slo)
    return placeholder


def _alerts(
    slo: SLO,
    labels: dict[str, str],
    loc: tuple[str | int, ...],
    where: Where,
    notes: Notes,
    windows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The page and ticket alerts (those not disabled) as the window set's alerts of that severity."""
    alerting = slo.alerting
    enabled = not (alerting.page_alert.disable and alerting.ticket_alert.disable)
    if alerting.name and enabled:
        message = f"slotail names every burn-rate alert SLOErrorBudgetBurn: {alerting.name!r} is not carried"
        notes.add(where, (*loc, "name"), message, slotail_name(slo.name))
    alerts: list[dict[str, Any]] = []
    shared = _annotations(alerting.annotations, loc, where, notes) if enabled else {}
    for severity, alert in (("page", alerting.page_alert), ("ticket", alerting.ticket_alert)):
        if alert.disable:
            continue
        keys = shared | _annotations(alert.annotations, (*loc, f"{severity}_alert"), where, notes)
        # Sloth's own alerts carry sloth_severity; Alertmanager routes written for them keep working.
        own = labels | alerting.labels | alert.labels | {"sloth_severity": severity}
        alerts += [
            window | {"labels": own} | keys for window in windows if window.get("severity") == severity
        ]
    return alerts


def _annotations(
    annotations: dict[str, str], loc: tuple[str | int, ...], where: Where, notes: Notes
) -> dict[str, str]:
    """summary and runbook as the alert's; any other annotation is noted as not carried."""
    for key in sorted(set(annotations) - set(ANNOTATIONS)):
        notes.add(where, (*loc, "annotations", key), "slotail alerts take `summary` and `runbook` only")
    return {ANNOTATIONS[k]: v for k, v in annotations.items() if k in ANNOTATIONS}
