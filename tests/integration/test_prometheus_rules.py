"""`slotail rules` output, checked and unit-tested by the real promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.promstack import generate_rules
from tests.tools import require

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
# windows/ holds alert window sets and examples/interop/ OpenSLO and Sloth specs: not configs.
CONFIGS = sorted(p for p in (ROOT / "config").rglob("*.yaml") if not {"windows", "interop"} & set(p.parts))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_promtool_accepts_the_rules_generated_for_every_shipped_config(tmp_path, config):
    """Every config under config/ yields rules `promtool check rules` accepts, with every burn alert."""
    promtool = require("promtool", "prometheus")
    rules = generate_rules(config, tmp_path / "rules.yaml")
    proc = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_the_fast_page_fires_for_a_10_minute_outage_and_not_for_a_2_minute_blip(tmp_path):
    """promtool unit tests (tests/promtool/fast_page_test.yaml) over the generated rules."""
    promtool = require("promtool", "prometheus")
    generate_rules(ROOT / "config" / "slotail.yaml", tmp_path / "rules.yaml")
    test = shutil.copy(ROOT / "tests" / "promtool" / "fast_page_test.yaml", tmp_path)
    proc = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_grouped_slo_pages_per_group_fleet_wide(tmp_path):
    """promtool unit tests (tests/promtool/grouped_page_test.yaml): sums keep `region`, one region pages."""
    promtool = require("promtool", "prometheus")
    generate_rules(ROOT / "tests" / "promtool" / "grouped.yaml", tmp_path / "rules.yaml")
    test = shutil.copy(ROOT / "tests" / "promtool" / "grouped_page_test.yaml", tmp_path)
    proc = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_slo_without_alerts_still_records_its_budget_and_says_when_it_is_spent(tmp_path):
    """promtool unit tests (tests/promtool/no_alerts_test.yaml): the budget record reads a recorded
    burn rate over the period even when no alert reads that window."""
    promtool = require("promtool", "prometheus")
    generate_rules(ROOT / "tests" / "promtool" / "no_alerts.yaml", tmp_path / "rules.yaml")
    test = shutil.copy(ROOT / "tests" / "promtool" / "no_alerts_test.yaml", tmp_path)
    proc = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_burn_alerts_carry_exactly_slo_alert_and_severity(tmp_path):
    """Every SLOErrorBudgetBurn rule has exactly the labels slo, alert, severity and the annotations."""
    import yaml

    doc = yaml.safe_load(
        generate_rules(ROOT / "config" / "slotail.yaml", tmp_path / "rules.yaml").read_text()
    )
    burns = [r for g in doc["groups"] for r in g["rules"] if r.get("alert") == "SLOErrorBudgetBurn"]
    assert len(burns) == 6 * 4  # six SLOs, Google's four windows each
    for rule in burns:
        assert set(rule["labels"]) == {"slo", "alert", "severity"}
        assert set(rule["annotations"]) == {"summary", "description", "runbook"}
    names = {r.get("alert") for g in doc["groups"] for r in g["rules"]}
    assert {"SLOErrorBudgetExhausted", "SLOEventsAbsent"} <= names
