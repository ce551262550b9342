"""`import_specs`: OpenSLO and Sloth objects become slotail SLOs; what cannot is noted; mistakes stop it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from slotail.interop.documents import SpecError
from slotail.interop.importer import Imported, import_specs


def run(tmp_path: Path, *texts: str) -> Imported:
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"spec{i}.yaml"
        path.write_text(textwrap.dedent(text))
        paths.append(path)
    return import_specs(paths)


def slos(imported: Imported) -> dict[str, dict[str, Any]]:
    return {slo["name"]: slo for slo in yaml.safe_load(imported.text)["slos"]}


def notes(imported: Imported) -> list[str]:
    return [str(note) for note in imported.notes]


SLI = """\
    ---
    apiVersion: openslo/v1
    kind: SLI
    metadata: {name: errors}
    spec:
      ratioMetric:
        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(errors[5m]))'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(requests[5m]))'}}}
"""


def slo(
    name: str,
    objectives: str = "[{target: 0.99}]",
    window: str = "[{duration: 28d, isRolling: true}]",
    extra: str = "",
    budgeting: str = "Occurrences",
) -> str:
    return f"""\
    ---
    apiVersion: openslo/v1
    kind: SLO
    metadata: {{name: {name}}}
    spec:
      indicatorRef: errors
      timeWindow: {window}
      budgetingMethod: {budgeting}
      objectives: {objectives}
{textwrap.indent(textwrap.dedent(extra), "      ")}"""


def test_a_ratio_slo_imports_with_its_target_as_written_and_a_placeholder(tmp_path: Path) -> None:
    imported = run(tmp_path, SLI + slo("api", "[{target: 0.9995}]"))
    got = slos(imported)["api"]
    assert got["objective"] == 99.95  # not 99.95000000000002
    assert got["period"] == "28d"
    assert got["sli"] == {
        "placeholder": {
            "bad": {"source": "Prometheus", "query": "sum(rate(errors[5m]))"},
            "total": {"source": "Prometheus", "query": "sum(rate(requests[5m]))"},
        }
    }
    assert imported.placeholders == 1
    [note] = [n for n in notes(imported) if "placeholder" in n]
    assert "document 1 (SLI errors) → SLO api: spec.ratioMetric: a Prometheus query" in note


def test_malformed_objects_stop_the_import_naming_document_kind_name_path_and_line(tmp_path: Path) -> None:
    bad = (
        slo("api", "[{target: 1.5}]")
        + """\
    ---
    apiVersion: openslo/v1
    kind: AlertCondition
    metadata: {name: burn}
    spec: {severity: page, condition: {op: gte, threshold: 2, lookbackWindow: 1 hour}}
    ---
    apiVersion: openslo/v1alpha
    kind: SLO
    """
    )
    with pytest.raises(SpecError) as caught:
        run(tmp_path, bad)
    lines = [str(n) for n in caught.value.notes]
    assert any(
        "spec0.yaml:9: document 1 (SLO api): spec.objectives[0].target: " in line and "less than 1" in line
        for line in lines
    ), lines
    assert any(
        "document 2 (AlertCondition burn): spec.condition.lookbackWindow: expected a duration" in line
        for line in lines
    ), lines
    assert any("document 3: apiVersion: expected apiVersion openslo/v1" in line for line in lines), lines
    assert caught.value.exit_code == 2


def test_an_unknown_key_is_a_mistake_not_an_objective_dropped(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        run(tmp_path, SLI + slo("api", extra="objective: {target: 0.9}"))
    assert any("spec.objective: unknown key 'objective'" in str(n) for n in caught.value.notes)


def test_a_reference_to_nothing_stops_the_import(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        run(tmp_path, slo("api", extra="alertPolicies: [{alertPolicyRef: missing}]"))
    text = [str(n) for n in caught.value.notes]
    assert any("spec.indicatorRef: no SLI named 'errors'" in t for t in text), text
    assert any("spec.alertPolicies[0].alertPolicyRef: no AlertPolicy named 'missing'" in t for t in text), (
        text
    )


def test_references_resolve_across_files_and_list_documents(tmp_path: Path) -> None:
    """go-sdk writes objects as one YAML list; references reach across the files imported."""
    listed = """\
    - apiVersion: openslo/v1
      kind: AlertPolicy
      metadata: {name: page}
      spec:
        conditions: [{conditionRef: fast}]
    - apiVersion: openslo/v1
      kind: AlertCondition
      metadata: {name: fast}
      spec: {severity: page, condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h}}
    """
    imported = run(tmp_path, listed, SLI + slo("api", extra="alertPolicies: [{alertPolicyRef: page}]"))
    assert slos(imported)["api"]["alerts"] == [
        {"name": "page", "severity": "page", "burn_rate": 14.4, "window": "1h"}
    ]


def test_several_objectives_are_several_slos_named_by_display_name_or_number(tmp_path: Path) -> None:
    objectives = "[{displayName: Fast Path, target: 0.9}, {target: 0.99}]"
    imported = run(tmp_path, SLI + slo("api", objectives) + slo("api-2"))
    assert list(slos(imported)) == ["api-fast-path", "api-2", "api-2-2"]  # the last name was taken


def test_threshold_objectives_carry_the_threshold_into_a_latency_placeholder(tmp_path: Path) -> None:
    sli = """\
    apiVersion: openslo/v1
    kind: SLI
    metadata: {name: errors}
    spec: {thresholdMetric: {metricSource: {type: Datadog, spec: {query: 'p95:latency'}}}}
"""
    objectives = "[{op: lte, value: 300, target: 0.95}, {op: lt, value: 1000.5, target: 0.99},"
    objectives += " {op: gte, value: 5, target: 0.9}]"
    imported = run(tmp_path, sli + slo("lat", objectives))
    got = slos(imported)
    assert got["lat-1"]["sli"]["latency"] == {"threshold": 300}
    assert got["lat-2"]["sli"]["latency"] == {"threshold": 1000.5}
    assert "latency" not in got["lat-3"]["sli"]
    text = notes(imported)
    assert any(
        "SLO lat-2: spec.objectives[1].op: slotail counts a latency at the threshold as good" in t
        for t in text
    )
    assert any(
        "SLO lat-3: spec.objectives[2].op: slotail's latency SLIs are good at or under" in t for t in text
    )
    assert sum("OpenSLO gives no unit" in t for t in text) == 2


def test_a_calendar_month_week_or_quarter_in_utc_is_that_period_other_calendars_are_noted(
    tmp_path: Path,
) -> None:
    month = "[{duration: 1M, calendar: {startTime: 2024-01-01 00:00:00, timeZone: UTC}}]"
    quarter = "[{duration: 1Q, isRolling: false, calendar: {startTime: 2024-04-01 00:00:00, timeZone: UTC}}]"
    shifted = "[{duration: 1M, isRolling: false, calendar: {startTime: 2022-01-15 12:00:00, timeZone: CET}}]"
    week = "[{duration: 1w, isRolling: false, calendar: {startTime: 2024-01-01 00:00:00, timeZone: UTC}}]"
    year = "[{duration: 1Y, isRolling: false, calendar: {startTime: 2024-01-01 00:00:00, timeZone: UTC}}]"
    imported = run(
        tmp_path,
        SLI
        + slo("m", window=month)
        + slo("s", window=shifted)
        + slo("w", window=week)
        + slo("q", window=quarter)
        + slo("y", window=year),
    )
    got = slos(imported)
    assert (got["m"]["period"], got["s"]["period"]) == ("month", "month")
    assert (got["w"]["period"], got["q"]["period"]) == ("week", "quarter")
    assert got["y"]["period"] == "365d"
    text = notes(imported)
    assert any(
        "SLO s: spec.timeWindow[0].calendar.timeZone: slotail's calendar periods are UTC" in t for t in text
    )
    assert any("SLO s: spec.timeWindow[0].calendar.startTime:" in t for t in text)
    assert any("SLO y: spec.timeWindow[0].duration: slotail's calendar periods are" in t for t in text)
    assert not any(f"SLO {name}: spec.timeWindow" in t for t in text for name in "mwq")


def test_timeslices_import_as_timeslice_budgeting_and_ratio_timeslices_are_noted(tmp_path: Path) -> None:
    """`Timeslices` with a slice target and window becomes `budgeting: timeslices`; `RatioTimeslices`,
    and slice keys under Occurrences, are noted and the SLO counts events."""
    objectives = "[{target: 0.99, timeSliceTarget: 0.95, timeSliceWindow: 5m}]"
    spec = (
        SLI + slo("t", objectives, budgeting="Timeslices") + slo("r", objectives, budgeting="RatioTimeslices")
    )
    spec += slo("o", "[{target: 0.99, timeSliceWindow: 1m}]")
    imported = run(tmp_path, spec)
    got = slos(imported)
    assert {k: got["t"][k] for k in ("budgeting", "slice", "slice_target")} == {
        "budgeting": "timeslices",
        "slice": "5m",
        "slice_target": 95.0,
    }
    assert "budgeting" not in got["r"] and "budgeting" not in got["o"]
    text = notes(imported)
    assert any("SLO r: spec.budgetingMethod: slotail's timeslices judge each slice" in t for t in text)
    assert any(
        "SLO o: spec.objectives[0].timeSliceWindow: Occurrences budgeting has no slices" in t for t in text
    )
    assert not any("SLO t:" in t and "placeholder" not in t for t in text)


POLICIES = """\
alertPolicies:
  - kind: AlertPolicy
    metadata: {name: Fast Burn, labels: {team: [a, b]}}
    spec:
      alertWhenNoData: true
      conditions:
        - kind: AlertCondition
          metadata: {name: fast}
          spec:
            severity: page
            condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 30s}
      notificationTargets:
        - kind: AlertNotificationTarget
          metadata: {name: pager}
          spec: {target: pagerduty}
  - kind: AlertPolicy
    metadata: {name: low}
    spec:
      conditions:
        - kind: AlertCondition
          metadata: {name: low}
          spec: {severity: page, condition: {kind: burnrate, op: lte, threshold: 2, lookbackWindow: 1h}}
"""


def test_burn_rate_policies_become_alerts_and_what_they_cannot_say_is_noted(tmp_path: Path) -> None:
    imported = run(tmp_path, SLI + slo("api", extra=POLICIES))
    assert slos(imported)["api"]["alerts"] == [
        {
            "name": "fast-burn",
            "severity": "page",
            "burn_rate": 14.4,
            "window": "1h",
            "for": "30s",
            "labels": {"team": "a,b"},
        },
    ]
    text = notes(imported)
    for said in (
        "spec.alertPolicies[0].spec.conditions[0].spec.condition.alertAfter: shorter than backfill's",
        "spec.alertPolicies[0].spec.alertWhenNoData: slotail's alerts never fire on no data",
        "spec.alertPolicies[0].spec.notificationTargets[0]: 'pager' (pagerduty)",
        "spec.alertPolicies[0].metadata.labels.team: an alert label has one value",
        "spec.alertPolicies[1].spec.conditions[0].spec.condition.op: slotail's burn-rate alerts fire",
    ):
        assert any(said in t for t in text), (said, text)


SLOTH = """\
version: prometheus/v1
service: shop
labels: {owner: team, tier: "1"}
slos:
  - name: Requests Availability
    objective: 99.9
    labels: {tier: "2"}
    sli: {raw: {error_ratio_query: 'rate(errors[{{.window}}])'}}
    alerting:
      name: ShopErrors
      labels: {category: availability}
      annotations: {summary: Too many errors, title: Errors}
      page_alert: {labels: {severity: critical}}
      ticket_alert: {disable: true}
  - name: quiet
    objective: 99
    labels: {tier: "3"}
    sli: {plugin: {id: sloth-common/availability, options: {job: shop}}}
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
"""


def test_sloth_page_alerts_are_the_google_page_windows_with_sloths_labels(tmp_path: Path) -> None:
    imported = run(tmp_path, SLOTH)
    got = slos(imported)
    labels = {
        "owner": "team",
        "tier": "2",
        "category": "availability",
        "severity": "critical",
        "sloth_severity": "page",
    }
    assert got["requests-availability"]["alerts"] == [
        {
            "name": "page-fast",
            "severity": "page",
            "budget_percent": 2,
            "long_window": "1h",
            "short_window": "5m",
            "labels": labels,
            "summary": "Too many errors",
        },
        {
            "name": "page-slow",
            "severity": "page",
            "budget_percent": 5,
            "long_window": "6h",
            "short_window": "30m",
            "labels": labels,
            "summary": "Too many errors",
        },
    ]
    assert got["requests-availability"]["period"] == "30d"
    assert got["quiet"]["alerts"] == []
    assert got["quiet"]["sli"] == {
        "placeholder": {"plugin": "sloth-common/availability", "options": {"job": "shop"}}
    }
    text = notes(imported)
    for said in (
        "SLO requests-availability: slos[0].sli.raw: a ratio computed by a query has no events to count",
        "slos[0].alerting.annotations.title: slotail alerts take `summary` and `runbook` only",
        "SLO requests-availability: slos[0].alerting.name: slotail names every burn-rate alert",
        "SLO quiet: slos[1].sli.plugin: Sloth SLI plugin 'sloth-common/availability' has no slotail form",
        "SLO quiet: slos[1].labels: slotail puts labels on alerts, and this SLO has none",
        "document 1 (Sloth spec shop): service: slotail configs have no services",
    ):
        assert any(said in t for t in text), (said, text)


def test_sloth_specs_several_per_file_share_one_set_of_names(tmp_path: Path) -> None:
    imported = run(tmp_path, SLOTH + "---\n" + SLOTH)
    assert list(slos(imported)) == ["requests-availability", "quiet", "requests-availability-2", "quiet-2"]
