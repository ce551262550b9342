"""`export_openslo`: a config as OpenSLO v1 objects that validate, and that import back to the config."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import yaml

from slotail.interop.importer import import_specs
from slotail.interop.openslo_out import export_openslo
from slotail.interop.openslo_spec import KINDS

CONFIG = """\
timestamp: {field: ts}
store: {bucket: 10s}
slos:
  - name: api_availability
    objective: 99.5
    sli:
      events: {event: req, path: [/a, /b]}
      bad: {status: {gte: 500}}
      exclude: {status: 429}
  - name: api-latency
    objective: 95
    period: month
    sli:
      events: {event: req}
      latency: {field: ms, unit: ms, threshold: 300}
  - name: jobs
    objective: 99
    group_by: [queue]
    sli:
      good: {event: job_ok}
      bad: {event: job_failed}
    alerts:
      - {name: few_bad, severity: ticket, bad_count: 10, window: 10m}
      - {name: spike, severity: page, burn_rate: 10, window: 90s, for: 2m, min_events: 5, labels: {team: ops}}
      - {name: budget, severity: ticket, budget_below: 10}
alerts:
  - {name: fast, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m, runbook: "https://x"}
  - {name: low-sli, severity: ticket, sli_below: 98, window: 1d}
"""


def exported(tmp_path: Path, text: str = CONFIG) -> tuple[list[dict[str, Any]], list[str], Path]:
    config = tmp_path / "shop.yaml"
    config.write_text(textwrap.dedent(text))
    result = export_openslo(config)
    out = tmp_path / "openslo.yaml"
    out.write_text(result.text)
    return list(yaml.safe_load_all(result.text)), [str(n) for n in result.notes], out


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_object_exported_is_valid_openslo_v1(tmp_path: Path) -> None:
    docs, _, _ = exported(tmp_path)
    for doc in docs:
        KINDS[doc["kind"]].model_validate(doc)
    assert [d["kind"] for d in docs] == [
        "Service",
        "AlertNotificationTarget",
        "AlertPolicy",
        "SLO",
        "SLO",
        "SLO",
    ]


def test_slis_are_slotail_metric_sources_holding_the_matchers_by_role(tmp_path: Path) -> None:
    slos = by_kind(exported(tmp_path)[0], "SLO")
    ratio = slos["api-availability"]["spec"]["indicator"]["spec"]["ratioMetric"]
    assert ratio["bad"]["metricSource"] == {"type": "slotail", "spec": {"bad": {"status": {"gte": 500}}}}
    assert ratio["total"]["metricSource"]["spec"] == {
        "events": {"event": "req", "path": ["/a", "/b"]},
        "exclude": {"status": 429},
    }
    latency = slos["api-latency"]["spec"]
    assert (
        latency["indicator"]["spec"]["thresholdMetric"]["metricSource"]["spec"]["latency"]["threshold"] == 300
    )
    assert latency["objectives"] == [{"op": "lte", "value": 300, "targetPercent": 95}]
    assert latency["timeWindow"] == [
        {
            "duration": "1M",
            "isRolling": False,
            "calendar": {"startTime": "2020-01-01 00:00:00", "timeZone": "UTC"},
        }
    ]
    pair = slos["jobs"]["spec"]["indicator"]["spec"]["ratioMetric"]
    assert pair["good"]["metricSource"]["spec"] == {"good": {"event": "job_ok"}}
    assert pair["total"]["metricSource"]["spec"] == {
        "good": {"event": "job_ok"},
        "bad": {"event": "job_failed"},
    }


def test_names_become_rfc1123_and_the_slotail_name_travels_in_an_annotation(tmp_path: Path) -> None:
    slos = by_kind(exported(tmp_path)[0], "SLO")
    assert (
        json.loads(slos["api-availability"]["metadata"]["annotations"]["slotail.dev/name"])
        == "api_availability"
    )


def test_the_default_policy_is_shared_by_reference_unless_its_threshold_depends_on_the_slo(
    tmp_path: Path,
) -> None:
    """`fast` (a fixed burn rate) is one AlertPolicy; `low-sli` (sli_below: a burn rate set by each
    objective) is written inline with each SLO."""
    docs, _, _ = exported(tmp_path)
    assert list(by_kind(docs, "AlertPolicy")) == ["fast"]
    policies = by_kind(docs, "SLO")["api-latency"]["spec"]["alertPolicies"]
    assert policies[0] == {"alertPolicyRef": "fast"}
    condition = policies[1]["spec"]["conditions"][0]["spec"]["condition"]
    assert condition["threshold"] == (1 - 0.98) / (1 - 0.95)
    assert json.loads(policies[1]["metadata"]["annotations"]["slotail.dev/alert"]) == {
        "sli_below": 98,
        "threshold": condition["threshold"],
    }


def test_what_openslo_cannot_say_travels_in_annotations_and_is_noted(tmp_path: Path) -> None:
    docs, notes, _ = exported(tmp_path)
    jobs = by_kind(docs, "SLO")["jobs"]
    annotations = {k: json.loads(v) for k, v in jobs["metadata"]["annotations"].items()}
    assert annotations["slotail.dev/group_by"] == ["queue"]
    assert annotations["slotail.dev/alerts"] == [
        {"at": 0, "name": "few_bad", "severity": "ticket", "bad_count": 10, "window": "10m"},
        {"at": 2, "name": "budget", "severity": "ticket", "budget_below": 10},
    ]
    [spike] = jobs["spec"]["alertPolicies"]
    condition = spike["spec"]["conditions"][0]["spec"]["condition"]
    assert condition == {
        "kind": "burnrate",
        "op": "gte",
        "threshold": 10,
        "lookbackWindow": "2m",
        "alertAfter": "2m",
    }
    assert json.loads(spike["metadata"]["annotations"]["slotail.dev/alert"]) == {
        "window": "90s",
        "min_events": 5,
    }
    assert spike["metadata"]["labels"] == {"team": "ops"}
    service = by_kind(docs, "Service")["shop"]
    assert set(service["metadata"]["annotations"]) == {"slotail.dev/timestamp", "slotail.dev/store"}
    for said in (
        "shop.yaml:23: SLO jobs: slos[2].alerts[0]: alert 'few_bad' has no OpenSLO form",
        "shop.yaml:24: SLO jobs: slos[2].alerts[1]: min_events, window: carried in the AlertPolicy's",
        "shop.yaml:18: SLO jobs: slos[2].group_by: no OpenSLO form",
        "shop.yaml:1: timestamp: no OpenSLO form: carried in the Service's annotation slotail.dev/timestamp",
    ):
        assert any(said in n for n in notes), (said, notes)


def test_import_of_the_export_gives_the_config_back(tmp_path: Path) -> None:
    _, _, out = exported(tmp_path)
    imported = import_specs([out])
    assert imported.notes == []
    back = {slo["name"]: slo for slo in yaml.safe_load(imported.text)["slos"]}
    original = yaml.safe_load(CONFIG)
    for slo in original["slos"]:
        assert back[slo["name"]]["sli"] == slo["sli"]
    assert back["jobs"]["alerts"] == [
        {"name": "few_bad", "severity": "ticket", "bad_count": 10, "window": "10m"},
        {
            "name": "spike",
            "severity": "page",
            "burn_rate": 10,
            "window": "90s",
            "for": "2m",
            "min_events": 5,
            "labels": {"team": "ops"},
        },
        {"name": "budget", "severity": "ticket", "budget_below": 10},
    ]
    assert back["api-latency"]["alerts"][0] == {
        "name": "fast",
        "severity": "page",
        "burn_rate": 14.4,
        "long_window": "1h",
        "short_window": "5m",
        "runbook": "https://x",
    }
    assert back["jobs"]["group_by"] == ["queue"]
    assert yaml.safe_load(imported.text)["timestamp"] == {"field": "ts"}
