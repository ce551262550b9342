"""`slotail rules`: Prometheus recording and alerting rules that compute every SLO fleet-wide.

Each sidecar exports `slotail_sli_events_total{slo,outcome}`; a fleet's SLO is
the sum over its pods, so every ratio here is built from counters summed across
instances, never from per-pod ratios.

Windows up to SHORT_MAX_S read the raw counters with `rate(...[W])`. Longer
windows average a recorded 5-minute rate, `avg_over_time(slotail:sli_events:rate5m[W])`,
so a 30-day burn rate reads one recorded series per SLO and outcome, not 30
days of raw samples from every pod. What that costs: the window's edges blur
by the 5-minute rate's reach (at most 5m / W of the window: 0.35% for 1d,
0.01% for 30d), and the long-window group is evaluated every LONG_INTERVAL, so
its burn rates are up to that much behind.

A timeslice SLO's slices are judged fleet-wide by a group of its own evaluated
once a slice: each evaluation records 1 for a bad slice (its bad events over the
slice, summed over every instance, above 1 - slice target) and 0 for a good one
(no sample for an empty slice it skips). Its burn rate over a window is the
average of those samples over the window (`[W - 1s]`, so the range holds W/s
slice ends however Prometheus bounds it), divided by 1 - objective. Where empty
slices count as good, a slice with no sample (no data yet, or no sidecar scraped)
counts as good too: the bad ones are summed and divided by the W/s slices the
window holds, as the engine does.
"""

from __future__ import annotations

from typing import Any

import yaml

from slotail import names as n
from slotail.alerts.registry import KINDS
from slotail.config.model import SLO, AlertRule, Config
from slotail.outputs.alerttext import alert_name, burn_annotations, burn_labels
from slotail.timeutil import format_duration

SHORT_MAX_S = 6 * 3600
LONG_INTERVAL = "5m"
RATE5M = "slotail:sli_events:rate5m"
EVENTS = f"{n.SLI_EVENTS}_total"
COUNTED = 'outcome=~"good|bad"'


def error_ratio_record(window_s: int) -> str:
    return f"slotail:error_ratio:rate{format_duration(window_s)}"


def burn_rate_record(window_s: int) -> str:
    return f"slotail:burn_rate:rate{format_duration(window_s)}"


BUDGET_RECORD = "slotail:error_budget_remaining:ratio"
SLICE_BAD = "slotail:slice_bad:ratio"  # a timeslice SLO's slices: 1 bad, 0 good


def _slices(slo: SLO, window_s: int) -> str:
    """A timeslice SLO's recorded slices whose ends lie in the window (W/s of them)."""
    return f'{SLICE_BAD}{{slo="{slo.name}"}}[{format_duration(window_s - 1)}]'


def _slices_group(slo: SLO) -> dict[str, Any]:
    """The slices of a timeslice SLO, judged on the fleet's sums once a slice."""
    slicing = slo.slicing
    assert slicing is not None
    w, by, only = format_duration(slicing.seconds), _by(slo), f'{n.SLO}="{slo.name}",'
    bad = f'sum by ({by}) (rate({EVENTS}{{{only}outcome="bad"}}[{w}]))'
    total = f"sum by ({by}) (rate({EVENTS}{{{only}{COUNTED}}}[{w}]))"
    ratio = f"(\n{bad}\n/\n{total}\n)"
    if not slicing.empty_good:
        ratio = f"({ratio} >= 0)"  # an empty slice (0 / 0) has no sample: skipped
    expr = f"{ratio} > bool {1 - slicing.target:.12g}"  # an empty slice counted good: NaN > bool x is 0
    record = {"record": SLICE_BAD, "expr": expr, "labels": {n.SLO: slo.name}}
    return {"name": f"slotail-slices-{slo.name}", "interval": w, "rules": [record]}


def _by(slo: SLO | None) -> str:
    """The labels a fleet-wide sum keeps: the SLO, and a grouped SLO's group labels."""
    return ", ".join((n.SLO, *slo.group_labels)) if slo is not None else n.SLO


def _only(slo: SLO | None, grouped: list[str]) -> str:
    """A selector prefix: one grouped SLO, or (shared recordings) every SLO but the grouped ones."""
    if slo is not None:
        return f'{n.SLO}="{slo.name}",'
    return f'{n.SLO}!~"{"|".join(grouped)}",' if grouped else ""


def _ratio_expr(window_s: int, slo: SLO | None = None, grouped: list[str] | None = None) -> str:
    """Bad / (good + bad) over a window, per SLO (and group), summed over every instance."""
    w, by, only = format_duration(window_s), _by(slo), _only(slo, grouped or [])
    if window_s <= SHORT_MAX_S:
        bad = f'sum by ({by}) (rate({EVENTS}{{{only}outcome="bad"}}[{w}]))'
        total = f"sum by ({by}) (rate({EVENTS}{{{only}{COUNTED}}}[{w}]))"
    else:
        bad = f'sum by ({by}) (avg_over_time({RATE5M}{{{only}outcome="bad"}}[{w}]))'
        total = f"sum by ({by}) (avg_over_time({RATE5M}{{{only}{COUNTED}}}[{w}]))"
    return f"{bad}\n/\n{total}"


def _rate5m(slo: SLO | None = None, grouped: list[str] | None = None) -> dict[str, str]:
    """The recorded 5-minute rate long windows average, per SLO (and group) and outcome."""
    only = _only(slo, grouped or []).rstrip(",")
    selector = f"{{{only}}}" if only else ""
    return {"record": RATE5M, "expr": f"sum by ({_by(slo)}, {n.OUTCOME}) (rate({EVENTS}{selector}[5m]))"}


def _sum(slo: SLO) -> str:
    """`sum`, or for a grouped SLO `sum by (its group labels)`: fleet-wide, per group."""
    return f"sum by ({', '.join(slo.group_labels)})" if slo.group_by else "sum"


def _events_expr(slo: SLO, window_s: int) -> str:
    """Good + bad events of one SLO (per group) in a window, fleet-wide."""
    w = format_duration(window_s)
    if window_s <= SHORT_MAX_S:
        return f'{_sum(slo)} (increase({EVENTS}{{slo="{slo.name}",{COUNTED}}}[{w}]))'
    return f'{_sum(slo)} (avg_over_time({RATE5M}{{slo="{slo.name}",{COUNTED}}}[{w}])) * {window_s}'


def _windows(config: Config) -> dict[int, set[str]]:
    """Every window some SLO reads, with the SLOs that read it."""
    found: dict[int, set[str]] = {}
    for slo in config.slos:
        read = [w for rule in config.alert_rules(slo) for w in KINDS[rule.kind].windows(rule)]
        for w in (*read, config.period(slo).nominal_seconds):  # the budget record reads the period
            found.setdefault(w, set()).add(slo.name)
    return found


def _burn(slo: SLO, window_s: int) -> str:
    return f'{burn_rate_record(window_s)}{{slo="{slo.name}"}}'


class Fleet:
    """PromQL over one SLO summed across its sidecars, for its alerts' conditions (`alerts.kind.PromQL`)."""

    def __init__(self, slo: SLO) -> None:
        self.slo = slo

    def burn(self, seconds: int) -> str:
        return _burn(self.slo, seconds)

    def budget(self) -> str:
        return f'{BUDGET_RECORD}{{slo="{self.slo.name}"}}'

    def events(self, outcome: str, seconds: int) -> str:
        slo, w = self.slo, format_duration(seconds)
        return f'{_sum(slo)} (increase({EVENTS}{{slo="{slo.name}",outcome="{outcome}"}}[{w}]))'

    def enough_events(self, rule: AlertRule) -> str:
        if not (rule.min_events and rule.long_s):
            return ""
        on = ", ".join(self.slo.group_labels)
        slo, window = self.slo, rule.long_s
        if slo.slicing is None:
            events = _events_expr(slo, window)
        elif slo.slicing.empty_good:
            return ""  # every slice of the window counts: as many as it holds, checked at load
        else:
            events = f"count_over_time({_slices(slo, window)})"  # the slices not skipped
        return f"\nand on ({on})\n{events} >= {rule.min_events}"

    def sidecars_active(self, rule: AlertRule) -> str:
        slo = self.slo
        maximum = f"max by ({', '.join(slo.group_labels)})" if slo.group_by else "max"
        return f'{maximum}({n.ALERT_ACTIVE}{{slo="{slo.name}",alert="{rule.name}"}}) == 1'


def _alert(slo: SLO, rule: AlertRule) -> dict[str, Any]:
    kind = KINDS[rule.kind]
    alert: dict[str, Any] = {"alert": alert_name(rule), "expr": kind.promql(Fleet(slo), rule)}
    hold_s = kind.promql_for(rule)
    if hold_s:
        alert["for"] = format_duration(hold_s)
    alert["labels"] = burn_labels(slo, rule)
    alert["annotations"] = burn_annotations(slo, rule, '{{ $value | printf "%.2f" }}')
    return alert


def _error_ratio(slo: SLO, window_s: int) -> str:
    """The SLO's error ratio over a window: recorded from events, or of its slices (bad ones over those
    counted: every slice the window holds when empty ones count as good, else the ones not skipped)."""
    if slo.slicing is None:
        return f'{error_ratio_record(window_s)}{{slo="{slo.name}"}}'
    if slo.slicing.empty_good:
        return f"sum_over_time({_slices(slo, window_s)}) / {window_s // slo.slicing.seconds}"
    return f"avg_over_time({_slices(slo, window_s)})"


def _slo_group(config: Config, slo: SLO, windows: list[int]) -> dict[str, Any]:
    budget = (100.0 - slo.objective) / 100.0
    period = config.period(slo).nominal_seconds
    rules: list[dict[str, Any]] = [
        {
            "record": burn_rate_record(w),
            "expr": f"{_error_ratio(slo, w)} / {budget:.12g}",
            "labels": {n.SLO: slo.name},
        }
        for w in windows
    ]
    if slo.group_by:  # its own sums, keeping the group labels (the shared ones leave it out)
        own = [_rate5m(slo)] + [
            {"record": error_ratio_record(w), "expr": _ratio_expr(w, slo)} for w in windows
        ]
        rules[:0] = [rule | {"labels": {n.SLO: slo.name}} for rule in own]  # distinct from the shared
    rules.append({"record": BUDGET_RECORD, "expr": f"1 - {_burn(slo, period)}", "labels": {n.SLO: slo.name}})
    rules += [_alert(slo, r) for r in config.alert_rules(slo)]
    rules.append(
        {
            "alert": "SLOErrorBudgetExhausted",
            "expr": f'{BUDGET_RECORD}{{slo="{slo.name}"}} <= 0',
            "for": "5m",
            "labels": {n.SLO: slo.name, n.SEVERITY: "ticket"},
            "annotations": {
                "summary": f"{slo.name} has spent its whole error budget",
                "description": f"{slo.name} (objective {slo.objective:g}%) has no error budget left over its "
                f"{config.period(slo).label} period.",
                "runbook": "Freeze risky releases; reliability work only until the budget recovers.",
            },
        }
    )
    rules.append(
        {
            "alert": "SLOEventsAbsent",
            "expr": f'absent_over_time({EVENTS}{{slo="{slo.name}"}}[10m])',
            "for": "5m",
            "labels": {n.SLO: slo.name, n.SEVERITY: "ticket"},
            "annotations": {
                "summary": f"No slotail data for {slo.name}",
                "description": f"Prometheus has had no {EVENTS} for {slo.name} for 15 minutes: "
                "the sidecars are down, not scraped, or the SLO was renamed.",
                "runbook": "Check the slotail sidecars' /readyz and Prometheus's targets page.",
            },
        }
    )
    return {"name": f"slotail-slo-{slo.name}", "rules": rules}


def rules(config: Config) -> dict[str, Any]:
    """The rule file: shared recordings, then one group per SLO."""
    windows = _windows(config)
    short = sorted(w for w in windows if w <= SHORT_MAX_S)
    long = sorted(w for w in windows if w > SHORT_MAX_S)
    grouped = [slo.name for slo in config.slos if slo.group_by]
    shared = [_rate5m(grouped=grouped)]
    shared += [{"record": error_ratio_record(w), "expr": _ratio_expr(w, grouped=grouped)} for w in short]
    groups = [{"name": "slotail-sli", "rules": shared}]
    if long:
        groups.append(
            {
                "name": "slotail-sli-long",
                "interval": LONG_INTERVAL,
                "rules": [
                    {"record": error_ratio_record(w), "expr": _ratio_expr(w, grouped=grouped)} for w in long
                ],
            }
        )
    groups += [_slices_group(slo) for slo in config.slos if slo.slicing is not None]
    for slo in config.slos:
        mine = sorted(w for w, names in windows.items() if slo.name in names)
        groups.append(_slo_group(config, slo, mine))
    return {"groups": groups}


class _Literal(str):
    """A string YAML renders as a block (multi-line expressions)."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


def _blocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blocks(v) for v in value]
    return _Literal(value) if isinstance(value, str) and "\n" in value else value


def render(config: Config) -> str:
    """The rules as Prometheus rule-file YAML."""

    class RulesDumper(yaml.SafeDumper):
        """Multi-line expressions as YAML blocks."""

    RulesDumper.add_representer(_Literal, _literal)
    head = "# Generated by `slotail rules`; regenerate after changing the slotail config.\n"
    return head + yaml.dump(_blocks(rules(config)), Dumper=RulesDumper, sort_keys=False, width=120)
