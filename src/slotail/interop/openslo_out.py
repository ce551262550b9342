"""A slotail config as OpenSLO v1: a Service, and per SLO an SLO with its SLI inline and its alert policies.

Each SLI is a `ratioMetric` (or a `thresholdMetric` for a latency SLI) whose metric sources are of
`type: slotail`, their `spec` the config's own matchers, so that `slotail import` gives them back as
they were. What OpenSLO has no field for (alert kinds other than burn rates, `min_events`, a short
window, group_by, the config's top-level keys, ...) travels in `slotail.dev/` annotations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slotail.config.load import Loader, _Lines, load_config, load_window_set, read_text
from slotail.config.model import SLO, AlertRule, Config
from slotail.interop.documents import Note, Notes, Where
from slotail.interop.newconfig import THRESHOLD_KEYS, number
from slotail.interop.openslo_in import OWN_TARGET
from slotail.interop.openslo_spec import API_VERSION
from slotail.interop.shared import (
    ANNOTATION,
    METRIC_SOURCE,
    Flow,
    UniqueNames,
    annotation,
    dns_label,
    dump_yaml,
    openslo_duration,
    ratio,
    slotail_name,
)

EXPRESSED = frozenset(  # an SLO's keys OpenSLO has a field for
    {"name", "objective", "period", "description", "sli", "alerts", "budgeting", "slice", "slice_target"}
)
ALERT_EXPRESSED = frozenset(
    {"name", "severity", "burn_rate", "window", "long_window", "for", "labels", "summary"}
)
CALENDAR = {"month": ("1M", "2020-01-01"), "quarter": ("1Q", "2020-01-01"), "week": ("1w", "2020-01-06")}
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Exported:
    """The OpenSLO YAML stream, and a note for each thing carried in an annotation."""

    text: str
    notes: list[Note]


def export_openslo(path: Path, service: str | None = None) -> Exported:
    """The config at `path` as OpenSLO v1 objects, under a Service named `service` (default: the file's)."""
    config = load_config(path)
    text = read_text(path)
    raw = yaml.load(text, Loader=Loader)
    where = Where(str(path), 0, _Lines(yaml.compose(text, Loader=Loader)))
    exporter = _Exporter(config, raw, path.parent, where, dns_label(slotail_name(service or path.stem)))
    return Exported(dump_yaml(exporter.documents(), explicit_start=True), exporter.notes)


def _object(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _metric(spec: dict[str, Any]) -> dict[str, Any]:
    """A metric source of slotail's type holding these SLI keys as they are in the config."""
    held = {key: Flow(value) if isinstance(value, dict) else value for key, value in spec.items()}
    return {"metricSource": {"type": METRIC_SOURCE, "spec": held}}


def indicator(sli: dict[str, Any]) -> dict[str, Any]:
    """The SLI's spec: a threshold metric for a latency SLI, else a ratio whose good or bad part is named."""
    if "latency" in sli:
        return {"thresholdMetric": _metric(sli)}
    if "events" in sli:
        role = "bad" if "bad" in sli else "good"
        rest = {key: value for key, value in sli.items() if key != role}
        return {"ratioMetric": {"counter": True, role: _metric({role: sli[role]}), "total": _metric(rest)}}
    # An event pair: the good lines, out of the good and bad lines.
    return {"ratioMetric": {"counter": True, "good": _metric({"good": sli["good"]}), "total": _metric(sli)}}


class _Exporter:
    """One config's OpenSLO objects, noting what travels in annotations."""

    def __init__(self, config: Config, raw: dict[str, Any], base: Path, where: Where, service: str) -> None:
        self.config, self.raw, self.base, self.where, self.service = config, raw, base, where, service
        self.notes = Notes()
        self.top_alerts = self.alert_list(raw.get("alerts"))
        self.shared = self.shared_policies()

    def note(self, loc: Loc, message: str, slo: str = "") -> None:
        self.notes.add(self.where, loc, message, slo)

    def documents(self) -> list[dict[str, Any]]:
        names = UniqueNames()
        slos = [self.slo(i, slo, names.take(dns_label(slo.name))) for i, slo in enumerate(self.config.slos)]
        policies = [self.policy_object(j, name) for j, name in self.shared.items()]
        uses_target = policies or any(doc["spec"].get("alertPolicies") for doc in slos)
        return [self.service_object(), *([self.target()] if uses_target else []), *policies, *slos]

    def alert_list(self, alerts: Any) -> list[dict[str, Any]] | None:
        """An `alerts:` value as its list of alert mappings (a window set read from its file)."""
        if isinstance(alerts, str):
            return load_window_set(alerts, self.base)
        return alerts if isinstance(alerts, list) else None

    def shared_policies(self) -> dict[int, str]:
        """The default policy's burn-rate alerts that are one AlertPolicy for every SLO inheriting them
        (a threshold that depends on the SLO's objective or period is written with each SLO instead)."""
        heirs = [i for i, slo in enumerate(self.raw["slos"]) if "alerts" not in slo]
        if not heirs or not self.top_alerts:
            return {}
        names, shared = UniqueNames(), {}
        for j, alert in enumerate(self.top_alerts):
            factors = {self.config.alert_rules(self.config.slos[i])[j].factor for i in heirs}
            if _burn(alert) and len(factors) == 1:
                shared[j] = names.take(dns_label(str(alert["name"])))
        return shared

    def service_object(self) -> dict[str, Any]:
        """The Service, carrying the config's top-level keys other than `slos` and `alerts`."""
        annotations = {}
        for key, value in self.raw.items():
            if key not in ("slos", "alerts"):
                annotations[ANNOTATION + key] = annotation(value)
                self.note((key,), f"no OpenSLO form: carried in the Service's annotation {ANNOTATION}{key}")
        metadata: dict[str, Any] = {"name": self.service}
        if annotations:
            metadata["annotations"] = annotations
        return _object("Service", metadata, {})

    def target(self) -> dict[str, Any]:
        description = "slotail's alerts go to Alertmanager: through `slotail rules`, or pushed by the sidecar"
        return _object(
            "AlertNotificationTarget",
            {"name": OWN_TARGET},
            {"description": description, "target": OWN_TARGET},
        )

    def slo(self, i: int, slo: SLO, name: str) -> dict[str, Any]:
        raw = self.raw["slos"][i]
        annotations = {ANNOTATION + "name": annotation(slo.name)} if name != slo.name else {}
        for key, value in raw.items():
            if key not in EXPRESSED:
                annotations[ANNOTATION + key] = annotation(value)
                message = f"no OpenSLO form: carried in the SLO's annotation {ANNOTATION}{key}"
                self.note(("slos", i, key), message, slo.name)
        if slo.slice is not None and openslo_duration(slo.slice) is None:
            annotations[ANNOTATION + "slice"] = annotation(raw["slice"])
            self.note(
                ("slos", i, "slice"), f"not whole minutes: carried in the SLO's annotation {ANNOTATION}slice"
            )
        policies, kept = self.alert_policies(i, slo, raw)
        if kept:
            annotations[ANNOTATION + "alerts"] = annotation(kept)
        spec: dict[str, Any] = {"description": slo.description} if slo.description else {}
        spec |= {
            "service": self.service,
            "indicator": {"metadata": {"name": name}, "spec": indicator(raw["sli"])},
            "timeWindow": [self.time_window(i, slo, annotations)],
            "budgetingMethod": "Timeslices" if slo.slicing is not None else "Occurrences",
            "objectives": [self.objective(slo)],
        }
        if policies:
            spec["alertPolicies"] = policies
        metadata: dict[str, Any] = {"name": name}
        if annotations:
            metadata["annotations"] = annotations
        return _object("SLO", metadata, spec)

    @staticmethod
    def objective(slo: SLO) -> dict[str, Any]:
        objective: dict[str, Any] = {}
        if slo.sli.latency is not None:
            objective |= {"op": "lte", "value": number(slo.sli.latency.threshold)}
        objective["targetPercent"] = number(slo.objective)
        if slo.slice is not None and slo.slice_target is not None:
            window = openslo_duration(slo.slice) or _minutes(slo.slice)  # seconds: kept in an annotation
            objective |= {"timeSliceTarget": ratio(slo.slice_target), "timeSliceWindow": window}
        return objective

    def time_window(self, i: int, slo: SLO, annotations: dict[str, str]) -> dict[str, Any]:
        period = self.config.period(slo)
        if period.calendar and period.label in CALENDAR:
            duration, start = CALENDAR[period.label]
            return {
                "duration": duration,
                "isRolling": False,
                "calendar": {"startTime": f"{start} 00:00:00", "timeZone": "UTC"},
            }
        seconds = period.nominal_seconds
        exact = openslo_duration(seconds)
        if exact is None or period.calendar:  # seconds, or a calendar period OpenSLO has no unit for
            annotations[ANNOTATION + "period"] = annotation(period.label)
            self.note(("slos", i, "period"), f"carried in the SLO's annotation {ANNOTATION}period", slo.name)
        return {"duration": exact or _minutes(seconds), "isRolling": True}

    def alert_policies(self, i: int, slo: SLO, raw: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
        """The SLO's alerts: AlertPolicy references or inline ones, and (with their place) the alerts
        that have no OpenSLO form."""
        own = "alerts" in raw
        alerts = self.alert_list(raw["alerts"]) if own else self.top_alerts
        where: Loc = ("slos", i, "alerts") if own else ("alerts",)
        policies: list[Any] = []
        kept: list[dict[str, Any]] = []
        for j, (alert, rule) in enumerate(zip(alerts or [], self.config.alert_rules(slo), strict=True)):
            if not _burn(alert):
                kept.append({"at": j} | alert)
                message = f"alert {rule.name!r} has no OpenSLO form: carried in the SLO's annotation "
                message += f"{ANNOTATION}alerts"
                self.note((*where, j), message, slo.name)
            elif not own and j in self.shared:
                policies.append({"alertPolicyRef": self.shared[j]})
            else:
                policies.append({"kind": "AlertPolicy", **self.policy(alert, rule, (*where, j), slo.name)})
        return policies, kept

    def policy_object(self, j: int, name: str) -> dict[str, Any]:
        assert self.top_alerts is not None
        heir = next(
            slo for slo, raw in zip(self.config.slos, self.raw["slos"], strict=True) if "alerts" not in raw
        )
        policy = self.policy(self.top_alerts[j], self.config.alert_rules(heir)[j], ("alerts", j), "", name)
        return _object("AlertPolicy", policy["metadata"], policy["spec"])

    def policy(
        self, alert: dict[str, Any], rule: AlertRule, loc: Loc, slo: str, name: str | None = None
    ) -> dict[str, Any]:
        """A burn-rate alert as an AlertPolicy (metadata and spec) with its condition inline."""
        name = name or dns_label(rule.name)
        extra = {key: value for key, value in alert.items() if key not in ALERT_EXPRESSED}
        if any(key in extra for key in THRESHOLD_KEYS):
            extra["threshold"] = number(rule.factor)  # the burn rate it was exported as
        condition: dict[str, Any] = {"kind": "burnrate", "op": "gte", "threshold": number(rule.factor)}
        condition["lookbackWindow"] = self.duration(rule.long_s, "window", alert, extra)
        if rule.for_s:
            condition["alertAfter"] = self.duration(rule.for_s, "for", alert, extra)
        annotations = {ANNOTATION + "name": annotation(rule.name)} if name != rule.name else {}
        if extra:
            annotations[ANNOTATION + "alert"] = annotation(extra)
            carried = ", ".join(k for k in extra if k != "threshold")
            self.note(loc, f"{carried}: carried in the AlertPolicy's annotation {ANNOTATION}alert", slo)
        metadata: dict[str, Any] = {"name": name}
        if rule.labels:
            metadata["labels"] = dict(rule.labels)
        if annotations:
            metadata["annotations"] = annotations
        spec: dict[str, Any] = {"description": rule.summary} if rule.summary else {}
        spec |= {"severity": rule.severity, "condition": condition}
        inline = {"kind": "AlertCondition", "metadata": {"name": name}, "spec": spec}
        targets = [{"targetRef": OWN_TARGET}]
        return {
            "metadata": metadata,
            "spec": {"alertWhenBreaching": True, "conditions": [inline], "notificationTargets": targets},
        }

    @staticmethod
    def duration(seconds: int, key: str, alert: dict[str, Any], extra: dict[str, Any]) -> str:
        """OpenSLO shorthand; a span of seconds is rounded up to minutes and kept exactly in `extra`."""
        exact = openslo_duration(seconds)
        if exact is not None:
            return exact
        keys = ("long_window", "window") if key == "window" else (key,)
        extra |= {k: alert[k] for k in keys if k in alert}
        return _minutes(seconds)


def _minutes(seconds: int) -> str:
    """A span rounded up to whole minutes, in OpenSLO shorthand."""
    return f"{-(-seconds // 60)}m"


def _burn(alert: dict[str, Any]) -> bool:
    """Whether an alert is a burn rate (OpenSLO's one condition kind), however its threshold is written."""
    return any(key in alert for key in ("burn_rate", *THRESHOLD_KEYS))
