"""OpenSLO v1 objects into slotail SLOs: objectives, time windows, burn-rate alert policies, labels.

References (`indicatorRef`, `alertPolicyRef`, `conditionRef`, `targetRef`) are resolved by name across
every file imported. An SLO whose metric sources are of `type: slotail` (what `slotail export` writes)
gives back its matchers as they were; any other query becomes a placeholder to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slotail.interop.documents import Notes, Where
from slotail.interop.newconfig import THRESHOLD_KEYS, NewSLO, number, period_supported
from slotail.interop.openslo_spec import (
    SLI,
    SLO,
    AlertCondition,
    AlertConditionSpec,
    AlertPolicy,
    AlertPolicySpec,
    DataSource,
    Metadata,
    Object,
    Objective,
    PolicyItem,
    Service,
    SLISpec,
    SLOSpec,
    TargetItem,
)
from slotail.interop.shared import (
    ANNOTATION,
    CALENDAR_UNITS,
    METRIC_SOURCE,
    UniqueNames,
    from_annotation,
    percent,
    slotail_name,
)

Loc = tuple[str | int, ...]
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z"})
EVALUATION_STEP_S = 60  # backfill's default --step
OWN_TARGET = "alertmanager"  # the notification target `slotail export` names: where slotail's alerts go


@dataclass
class Catalog:
    """Every OpenSLO object read, by kind and name; the names an SLO used."""

    objects: dict[str, dict[str, tuple[Object, Where]]] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(default_factory=set)
    errors: Notes = field(default_factory=Notes)

    def add(self, obj: Object, where: Where) -> None:
        named = self.objects.setdefault(where.kind, {})
        if obj.metadata.name in named:
            first = named[obj.metadata.name][1]
            message = f"a second {where.kind} named {obj.metadata.name!r} ({first.file}, {first})"
            self.errors.add(where, ("metadata", "name"), message)
            return
        named[obj.metadata.name] = (obj, where)

    def find(self, kind: str, name: str, where: Where, loc: Loc) -> tuple[Any, Where] | None:
        """The object of that kind and name, or None with an error at the reference."""
        found = self.objects.get(kind, {}).get(name)
        if found is None:
            self.errors.add(where, loc, f"no {kind} named {name!r} in the files imported")
            return None
        self.used.add((kind, name))
        return found

    def all(self, kind: str) -> list[tuple[Any, Where]]:
        return list(self.objects.get(kind, {}).values())


@dataclass(frozen=True)
class Found:
    """An object found inline or by reference: its spec, metadata, and where its `spec` is."""

    spec: Any
    metadata: Metadata
    where: Where
    loc: Loc  # of its spec


class OpenSLOImport:
    """OpenSLO objects into slotail SLOs and top-level keys, noting all that does not carry over."""

    def __init__(self, catalog: Catalog, names: UniqueNames, notes: Notes) -> None:
        self.catalog, self.names, self.notes = catalog, names, notes
        self.top: dict[str, Any] = {}  # top-level config keys from a Service's annotations

    def note(self, where: Where, loc: Loc, message: str, slo: str = "") -> None:
        self.notes.add(where, loc, message, slo)

    def services(self) -> None:
        """Top-level keys a Service carries in annotations; what else a Service says is noted."""
        for service, where in self.catalog.all("Service"):
            assert isinstance(service, Service)
            for key, value in self.annotations(service.metadata, where).items():
                if key in self.top and self.top[key] != value:
                    self.note(
                        where, ("metadata", "annotations", ANNOTATION + key), "another Service set it: kept"
                    )
                self.top.setdefault(key, value)
            if service.spec.description or service.metadata.displayName:
                self.note(
                    where, ("spec",), "slotail configs have no services: its description is not carried"
                )
        for source, where in self.catalog.all("DataSource"):
            assert isinstance(source, DataSource)
            message = f"slotail reads logs, not metric sources: {source.spec.type} is not carried"
            self.note(where, ("spec", "type"), message)

    def unused(self) -> None:
        """Objects no SLO referred to: noted, as nothing of them is imported."""
        for kind in ("SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"):
            for name, (_, where) in self.catalog.objects.get(kind, {}).items():
                if (kind, name) not in self.catalog.used:
                    self.note(where, ("metadata", "name"), "no SLO refers to it: nothing imported")

    def slo(self, slo: SLO, where: Where) -> list[NewSLO]:
        """One SLO per objective (several objectives: `<name>-<displayName or number>`)."""
        spec = slo.spec
        carried = self.annotations(slo.metadata, where)
        base = carried.pop("name", None) or slotail_name(slo.metadata.name)
        period = self.period(spec, where, base)
        labels = self.labels(slo.metadata, where, ("metadata", "labels"))
        alerts = self.alerts(spec, labels, carried.pop("alerts", None), where)
        if labels and not alerts:
            message = "slotail puts labels on alerts, and this SLO has none: its labels are not carried"
            self.note(where, ("metadata", "labels"), message, base)
        description = spec.description or slo.metadata.displayName or ""
        several = len(spec.objectives) > 1
        if several and any(o.indicator or o.indicatorRef for o in spec.objectives):
            message = "a composite SLO: each objective is imported as an SLO; their combined budget is not"
            self.note(where, ("spec", "objectives"), message, base)
        made = []
        for k, objective in enumerate(spec.objectives):
            suffix = slotail_name(objective.displayName) if objective.displayName else str(k + 1)
            name = self.names.take(f"{base}-{suffix}" if several else base)
            slicing = self.budgeting(spec, k, where, name)
            new = NewSLO(name, self.objective(objective), where, period, description, extra=slicing | carried)
            new.alerts = [dict(a) for a in alerts] if alerts is not None else None
            indicator = self.indicator(spec, objective, where, ("spec", "objectives", k))
            if indicator is not None:
                new.sli = self.sli(indicator, objective, where, ("spec", "objectives", k), name)
            made.append(new)
        return made

    @staticmethod
    def objective(objective: Objective) -> float:
        if objective.targetPercent is not None:
            return objective.targetPercent
        assert objective.target is not None
        return percent(objective.target)

    # ---- metadata -------------------------------------------------------------------------------

    def annotations(self, metadata: Metadata, where: Where, at: Loc = ("metadata",)) -> dict[str, Any]:
        """The `slotail.dev/` annotations' values by key; others are noted as not carried."""
        found: dict[str, Any] = {}
        for key, text in metadata.annotations.items():
            loc = (*at, "annotations", key)
            if not key.startswith(ANNOTATION):
                self.note(where, loc, "slotail has no annotations: not carried")
                continue
            try:
                found[key.removeprefix(ANNOTATION)] = from_annotation(text)
            except ValueError as exc:
                self.catalog.errors.add(where, loc, str(exc))
        return found

    def labels(self, metadata: Metadata, where: Where, loc: Loc) -> dict[str, str]:
        """Labels as alert labels: a label of several values is joined with `,` (and noted)."""
        labels = {}
        for key, value in metadata.labels.items():
            if isinstance(value, list):
                self.note(where, (*loc, key), "an alert label has one value: the values are joined with ','")
                value = ",".join(value)
            labels[key] = value
        return labels

    # ---- time window and budgeting --------------------------------------------------------------

    def period(self, spec: SLOSpec, where: Where, slo: str) -> str | None:
        """A rolling duration, or a calendar period slotail knows (`month`, …), else its length."""
        if not spec.timeWindow:
            return None
        window, loc = spec.timeWindow[0], ("spec", "timeWindow", 0)
        length = window.duration
        if window.rolling:
            if not length.exact:
                self.note(where, (*loc, "duration"), f"a rolling {length} is taken as {length.slotail}", slo)
            return length.slotail
        unit = CALENDAR_UNITS.get(length.unit) if length.count == 1 else None
        if unit is None or not period_supported(unit):
            known = ", ".join(u for u in CALENDAR_UNITS.values() if period_supported(u))
            message = f"slotail's calendar periods are {known}: a calendar {length} is imported as a rolling "
            self.note(where, (*loc, "duration"), message + length.slotail, slo)
            return length.slotail
        if window.calendar is not None:
            self.calendar(
                window.calendar.startTime, window.calendar.timeZone, unit, where, (*loc, "calendar"), slo
            )
        return unit

    def calendar(self, start: str, zone: str, unit: str, where: Where, loc: Loc, slo: str) -> None:
        """slotail's calendar periods are UTC, from midnight on the 1st (weeks: on Monday)."""
        if zone not in UTC_ZONES:
            self.note(
                where, (*loc, "timeZone"), f"slotail's calendar periods are UTC: {zone} is not carried", slo
            )
        try:
            begins = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            self.note(where, (*loc, "startTime"), "expected a time like 2022-01-01 00:00:00: not read", slo)
            return
        aligned = begins.time() == datetime.min.time() and {
            "month": begins.day == 1,
            "quarter": begins.day == 1 and begins.month % 3 == 1,
            "week": begins.weekday() == 0,
        }.get(unit, True)
        if not aligned:
            message = f"slotail's {unit}s start at 00:00 UTC on the first day: {start} is not carried"
            self.note(where, (*loc, "startTime"), message, slo)

    def budgeting(self, spec: SLOSpec, k: int, where: Where, slo: str) -> dict[str, Any]:
        """Timeslices as slotail's timeslice budgeting, from the objective's slice target and window; what
        cannot be carried is noted (the SLO then counts events)."""
        objective, loc = spec.objectives[k], ("spec", "objectives", k)
        target, window = objective.timeSliceTarget, objective.timeSliceWindow
        if spec.budgetingMethod == "Timeslices":
            if target is not None and window is not None and window.exact:
                return {"budgeting": "timeslices", "slice": window.slotail, "slice_target": percent(target)}
            message = "Timeslices take a timeSliceTarget and a timeSliceWindow of minutes, hours or days: "
            self.note(where, loc, message + "imported as Occurrences", slo)
            return {}
        if spec.budgetingMethod != "Occurrences" and k == 0:
            message = f"slotail's timeslices judge each slice by its own ratio: {spec.budgetingMethod} is "
            self.note(where, ("spec", "budgetingMethod"), message + "imported as Occurrences", slo)
        for key in ("timeSliceTarget", "timeSliceWindow"):
            if getattr(objective, key) is not None:
                self.note(
                    where, (*loc, key), f"{spec.budgetingMethod} budgeting has no slices: not carried", slo
                )
        return {}

    # ---- the SLI --------------------------------------------------------------------------------

    def indicator(self, spec: SLOSpec, objective: Objective, where: Where, loc: Loc) -> Found | None:
        """The objective's own SLI (a composite SLO), else the SLO's; inline or by reference."""
        if objective.indicator is not None:
            return Found(
                objective.indicator.spec, objective.indicator.metadata, where, (*loc, "indicator", "spec")
            )
        if spec.indicator is not None:
            return Found(spec.indicator.spec, spec.indicator.metadata, where, ("spec", "indicator", "spec"))
        ref_loc = (*loc, "indicatorRef") if objective.indicatorRef else ("spec", "indicatorRef")
        name = objective.indicatorRef or spec.indicatorRef
        assert name is not None
        found = self.catalog.find("SLI", name, where, ref_loc)
        if found is None:
            return None
        sli, sli_where = found
        assert isinstance(sli, SLI)
        return Found(sli.spec, sli.metadata, sli_where, ("spec",))

    def sli(self, found: Found, objective: Objective, where: Where, loc: Loc, slo: str) -> dict[str, Any]:
        """slotail's matchers when the metric sources are slotail's, else a placeholder; and the threshold."""
        spec: SLISpec = found.spec
        metrics = spec.metrics()
        if all((m.metricSource.type or "").lower() == METRIC_SOURCE for m in metrics.values()):
            sli = self.matchers(found, slo)
        else:
            sli = {"placeholder": placeholder(spec)}
            kinds = sorted(
                {m.metricSource.type or m.metricSource.metricSourceRef or "?" for m in metrics.values()}
            )
            message = (
                f"a {'/'.join(kinds)} query cannot become log matchers: `sli` is a placeholder to fill in"
            )
            self.note(found.where, (*found.loc, _metric_key(spec)), message, slo)
        self.threshold(sli, spec, objective, where, loc, slo)
        return sli

    def matchers(self, found: Found, slo: str) -> dict[str, Any]:
        """The union of each metric source's slotail SLI keys (export splits them by role)."""
        sli: dict[str, Any] = {}
        spec: SLISpec = found.spec
        for role, metric in spec.metrics().items():
            for key, value in metric.metricSource.spec.items():
                if key in sli and sli[key] != value:
                    where = (*found.loc, _metric_key(spec), role, "metricSource", "spec", key)
                    self.catalog.errors.add(
                        found.where, where, f"`{key}` differs from another metric source's"
                    )
                sli.setdefault(key, value)
        return sli

    def threshold(
        self, sli: dict[str, Any], spec: SLISpec, objective: Objective, where: Where, loc: Loc, slo: str
    ) -> None:
        """A threshold objective (`op`, `value`) on a threshold metric: a latency SLI's threshold."""
        if spec.thresholdMetric is None:
            if objective.op is not None or objective.value is not None:
                self.note(
                    where, (*loc, "value"), "`op` and `value` only apply to a thresholdMetric: ignored", slo
                )
            return
        if objective.value is None:
            self.note(where, loc, "no `value`: the latency threshold is left to fill in", slo)
            return
        if objective.op in ("gte", "gt"):
            message = (
                "slotail's latency SLIs are good at or under a threshold: good above a value has no form"
            )
            self.note(where, (*loc, "op"), message, slo)
            return
        if objective.op != "lte":
            self.note(where, (*loc, "op"), "slotail counts a latency at the threshold as good (lte)", slo)
        latency = dict(sli.get("latency") or {})
        if "placeholder" in sli and "unit" not in latency:  # (slotail's own matchers mean ms already)
            self.note(where, (*loc, "value"), "OpenSLO gives no unit: slotail reads the threshold in ms", slo)
        sli["latency"] = latency | {"threshold": number(objective.value)}

    # ---- alerts ---------------------------------------------------------------------------------

    def alerts(
        self, spec: SLOSpec, labels: dict[str, str], kept: Any, where: Where
    ) -> list[dict[str, Any]] | None:
        """The SLO's alert policies as slotail alerts, and those `slotail export` kept in an annotation."""
        if not spec.alertPolicies and kept is None:
            return None
        alerts: list[dict[str, Any]] = []
        for j, item in enumerate(spec.alertPolicies):
            policy = self.policy(item, where, ("spec", "alertPolicies", j))
            alert = self.alert(policy, labels) if policy is not None else None
            if alert is not None:
                alerts.append(alert)
        for extra in kept if isinstance(kept, list) else []:
            at = extra.pop("at", len(alerts)) if isinstance(extra, dict) else len(alerts)
            alerts.insert(at, extra)
        names = UniqueNames()
        return [alert | {"name": names.take(str(alert.get("name")))} for alert in alerts]

    def policy(self, item: PolicyItem, where: Where, loc: Loc) -> Found | None:
        if item.alertPolicyRef is None:
            assert item.spec is not None and item.metadata is not None
            return Found(item.spec, item.metadata, where, (*loc, "spec"))
        found = self.catalog.find("AlertPolicy", item.alertPolicyRef, where, (*loc, "alertPolicyRef"))
        if found is None:
            return None
        policy, policy_where = found
        assert isinstance(policy, AlertPolicy)
        return Found(policy.spec, policy.metadata, policy_where, ("spec",))

    def alert(self, policy: Found, slo_labels: dict[str, str]) -> dict[str, Any] | None:
        """A burn-rate condition as a single-window burn-rate alert, with `for` from `alertAfter`."""
        spec: AlertPolicySpec = policy.spec
        self.policy_flags(policy)
        condition = self.condition(spec.conditions[0], policy)
        if condition is None:
            return None
        found, carried = condition, self.annotations(policy.metadata, policy.where, _metadata(policy))
        cspec: AlertConditionSpec = found.spec
        rule, loc = cspec.condition, (*found.loc, "condition")
        if rule.kind != "burnrate":
            self.note(
                found.where, (*loc, "kind"), f"slotail has no {rule.kind!r} condition: alert not imported"
            )
            return None
        if rule.op in ("lte", "lt") or rule.threshold <= 0:
            message = "slotail's burn-rate alerts fire at or above a positive threshold: alert not imported"
            self.note(found.where, (*loc, "op" if rule.threshold > 0 else "threshold"), message)
            return None
        if rule.op == "gt":
            self.note(found.where, (*loc, "op"), "slotail fires at or above the threshold (gte)")
        alert: dict[str, Any] = {
            "name": carried.pop("name", None) or slotail_name(policy.metadata.name),
            "severity": cspec.severity,
            "burn_rate": number(rule.threshold),
            "window": rule.lookbackWindow.slotail,
        }
        if not rule.lookbackWindow.exact:
            self.note(found.where, (*loc, "lookbackWindow"), f"taken as {rule.lookbackWindow.slotail}")
        if rule.alertAfter is not None and rule.alertAfter.seconds > 0:
            alert["for"] = rule.alertAfter.slotail
            if rule.alertAfter.seconds < EVALUATION_STEP_S:
                message = "shorter than backfill's evaluation step (1m): it holds for a whole step"
                self.note(found.where, (*loc, "alertAfter"), message)
        labels = slo_labels | self.labels(policy.metadata, policy.where, (*_metadata(policy), "labels"))
        labels |= self.labels(found.metadata, found.where, (*_metadata(found), "labels"))
        if labels:
            alert["labels"] = labels
        summary = cspec.description or spec.description
        if summary:
            alert["summary"] = summary
        if cspec.description and spec.description:
            message = "not carried: the alert's summary is the condition's description"
            self.note(policy.where, (*policy.loc, "description"), message)
        return _overlay(alert, carried.pop("alert", {}), found, self.notes)

    def condition(self, item: Any, policy: Found) -> Found | None:
        loc = (*policy.loc, "conditions", 0)
        if item.conditionRef is None:
            return Found(item.spec, item.metadata, policy.where, (*loc, "spec"))
        found = self.catalog.find("AlertCondition", item.conditionRef, policy.where, (*loc, "conditionRef"))
        if found is None:
            return None
        condition, where = found
        assert isinstance(condition, AlertCondition)
        return Found(condition.spec, condition.metadata, where, ("spec",))

    def policy_flags(self, policy: Found) -> None:
        """What a policy says about notifications, which are Alertmanager's business in slotail."""
        spec: AlertPolicySpec = policy.spec
        flags = {
            "alertWhenNoData": (spec.alertWhenNoData is True, "slotail's alerts never fire on no data"),
            "alertWhenResolved": (
                spec.alertWhenResolved is True,
                "resolved notifications are Alertmanager's",
            ),
            "alertWhenBreaching": (spec.alertWhenBreaching is False, "slotail's alerts fire when breaching"),
        }
        for key, (said, message) in flags.items():
            if said:
                self.note(policy.where, (*policy.loc, key), f"{message}: not carried")
        for t, item in enumerate(spec.notificationTargets):
            self.target(item, policy, (*policy.loc, "notificationTargets", t))

    def target(self, item: TargetItem, policy: Found, loc: Loc) -> None:
        if item.targetRef is not None:
            found = self.catalog.find(
                "AlertNotificationTarget", item.targetRef, policy.where, (*loc, "targetRef")
            )
            target = found[0].spec.target if found is not None else OWN_TARGET
            name = item.targetRef
        else:
            assert item.spec is not None and item.metadata is not None
            target, name = item.spec.target, item.metadata.name
        if target != OWN_TARGET:
            message = f"{name!r} ({target}): slotail's alerts reach people through Alertmanager's routes"
            self.note(policy.where, loc, message + ": not carried")


def _overlay(alert: dict[str, Any], extra: Any, found: Found, notes: Notes) -> dict[str, Any]:
    """The alert with what `slotail export` kept in its annotation (a threshold changed since wins)."""
    if not isinstance(extra, dict):
        return alert
    extra = dict[str, Any](extra)
    recorded = extra.pop("threshold", None)
    if any(key in extra for key in THRESHOLD_KEYS):
        if recorded == alert["burn_rate"]:
            del alert["burn_rate"]
        else:
            extra = {k: v for k, v in extra.items() if k not in THRESHOLD_KEYS}
            message = "the threshold differs from the one exported: imported as burn_rate"
            notes.add(found.where, (*found.loc, "condition", "threshold"), message)
    if "short_window" in extra or "long_window" in extra:
        alert["long_window"] = alert.pop("window")
    return {**alert, **extra}


def _metadata(found: Found) -> Loc:
    """Where the metadata of an object found inline (or of its own document) is."""
    return (*found.loc[:-1], "metadata")


def _metric_key(spec: SLISpec) -> str:
    return "thresholdMetric" if spec.thresholdMetric is not None else "ratioMetric"


def placeholder(spec: SLISpec) -> dict[str, Any]:
    """The SLI's queries by role (good, bad, total, raw, threshold), kept for whoever fills it in."""
    kept: dict[str, Any] = {}
    for role, metric in spec.metrics().items():
        source = metric.metricSource
        query = source.spec.get("query") if set(source.spec) == {"query"} else source.spec
        where = " ".join(
            filter(None, (source.type, source.metricSourceRef and f"({source.metricSourceRef})"))
        )
        kept[role] = {"source": where, "query": query} if where else query
    if spec.ratioMetric is not None and spec.ratioMetric.rawType is not None:
        kept["rawType"] = spec.ratioMetric.rawType
    return kept
