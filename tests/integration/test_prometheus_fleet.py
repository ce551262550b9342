"""A real Prometheus (Debian's `prometheus`) scraping two real sidecars, evaluating `slotail rules`.

Two pods log live traffic with different volumes and failure shares, so the fleet's
error ratio is neither pod's, nor the mean of the two: only counters summed over
instances give it. The generated rules must get it, as the backfill of both logs does.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.promstack import Pod, Prometheus, Traffic, backfill_json, generate_rules, tail, wait_for
from tests.sidecar import AVAILABILITY, Sidecar, config_text
from tests.tools import require

pytestmark = pytest.mark.integration

SLO = "availability"  # tests.sidecar.AVAILABILITY: objective 99.5, bad = status >= 500
BUDGET = 0.005
BURN_5M = f'slotail:burn_rate:rate5m{{slo="{SLO}"}}'
WRITE_S = 70.0  # seconds of live traffic; the whole test takes about 85 s
TOLERANCE = 0.05
# name: (requests per second, every n-th fails): 2% of 30/s and 10% of 10/s, 4% fleet-wide
# (the mean of the pods' ratios would be 6%).
PODS = {"pod-a": (30.0, 50), "pod-b": (10.0, 10)}


@dataclass
class Member:
    """One pod of the fleet: its log, the sidecar tailing it, and the config both share."""

    name: str
    config: Path
    log: Path
    pod: Pod
    sidecar: Sidecar

    def counters(self) -> dict[str, int]:
        """The sidecar's own slotail_sli_events_total of the SLO, by outcome."""
        return {
            dict(labels)["outcome"]: int(value)
            for (name, labels), value in self.sidecar.metrics().items()
            if name == "slotail_sli_events_total" and dict(labels).get("slo") == SLO
        }

    def written(self) -> dict[str, int]:
        return {"good": self.pod.written - self.pod.bad, "bad": self.pod.bad, "excluded": 0}


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[list[Member]]:
    """Two sidecars, each tailing its own pod's log from the beginning, with its own state and port."""
    members: list[Member] = []
    try:
        for name, (rate, bad_every) in PODS.items():
            home = tmp_path / name
            (home / "logs").mkdir(parents=True)
            config = home / "slotail.yaml"
            config.write_text(config_text(home / "logs", AVAILABILITY))
            log = home / "logs" / "api.log"
            member = Member(name, config, log, Pod(log, rate, bad_every), Sidecar(home, config))
            members.append(member)
            member.sidecar.start()
        yield members
    finally:
        for member in members:
            member.sidecar.close()
            member.pod.close()


@pytest.fixture
def prometheus_binary() -> str:
    return require("prometheus", "prometheus")


@pytest.fixture
def prometheus(tmp_path: Path, prometheus_binary: str, fleet: list[Member]) -> Iterator[Prometheus]:
    """Prometheus on a free port, scraping both sidecars every second, with the generated rules."""
    rules = generate_rules(fleet[0].config, tmp_path / "rules.yaml")
    targets = [f"127.0.0.1:{m.sidecar.port}" for m in fleet]
    server = Prometheus(prometheus_binary, tmp_path, targets, rules)
    try:
        server.start()
        yield server
    finally:
        server.close()


def diagnostics(prometheus: Prometheus, fleet: list[Member]) -> str:
    parts = [prometheus.diagnostics()]
    parts += [f"--- {m.name} sidecar stderr (tail):\n{tail(m.sidecar.stderr_path)}" for m in fleet]
    return "\n".join(parts)


def value(result: list[dict[str, Any]], **labels: str) -> float | None:
    """The value of the sample with these labels in an instant-query result, or None."""
    found = [float(s["value"][1]) for s in result if labels.items() <= s["metric"].items()]
    assert len(found) <= 1, result
    return found[0] if found else None


def test_fleet_5m_burn_rate_from_generated_rules_matches_backfill_of_both_pods_logs(
    tmp_path, prometheus_binary, prometheus, fleet
):
    """Prometheus's `slotail:burn_rate:rate5m` over two scraped sidecars is the fleet's burn rate.

    Within 5% of `slotail backfill --at T` over both pods' logs together, at T a rule
    evaluation while traffic flows; the burn alerts are loaded and evaluate cleanly; and once
    the writing stops Prometheus's summed counters equal the sum of both sidecars' /metrics.
    """

    def why() -> str:
        return diagnostics(prometheus, fleet)

    def targets_up() -> bool:
        return sorted(t["health"] for t in prometheus.targets()) == ["up", "up"]

    wait_for(targets_up, describe=lambda: f"targets: {prometheus.targets()}\n{why()}")

    groups = prometheus.rule_groups()
    burn_alerts = {
        r["labels"]["alert"] for g in groups for r in g["rules"] if r.get("name") == "SLOErrorBudgetBurn"
    }
    assert burn_alerts == {"page-fast", "page-slow"}, f"rules loaded: {groups}\n{why()}"

    traffic = Traffic([m.pod for m in fleet])
    traffic.start()
    try:
        while traffic.elapsed() < WRITE_S:
            assert all(m.sidecar.alive() for m in fleet), why()
            time.sleep(0.5)
        # T: the latest evaluation of the 5m burn rate, taken while the pods still write.
        asked = time.time()
        latest = prometheus.query(f"timestamp({BURN_5M})", asked)
        assert latest, f"no {BURN_5M} recorded\n{why()}"
        at = float(latest[0]["value"][1])
        assert asked - at < 3, f"the rules were last evaluated {asked - at:.1f}s ago\n{why()}"
        burn = value(prometheus.query(BURN_5M, at), slo=SLO)
        while time.time() < at + 2:  # lines after T, which the backfill at T must leave out
            time.sleep(0.2)
    finally:
        traffic.stop()
    assert burn is not None, why()

    logs = []
    for member in fleet:
        logs.append(tmp_path / f"{member.name}.log")
        shutil.copy(member.log, logs[-1])
    report = backfill_json(fleet[0].config, logs, at)
    (slo,) = report["slos"]
    window = slo["windows"]["5m"]
    difference = abs(burn - window["burn_rate"]) / window["burn_rate"]
    written = sum(m.pod.written for m in fleet)
    print(
        f"\nT={at:.3f} prometheus 5m burn {burn:.5f}, backfill {window['burn_rate']:.5f}"
        f" ({window['good']} good, {window['bad']} bad): relative difference {difference:.3%};"
        f" {written} lines written in {WRITE_S:.0f}s"
    )
    assert difference <= TOLERANCE, f"prometheus {burn} vs backfill {window}: {difference:.2%} apart\n{why()}"
    assert report["diagnostics"]["after_evaluated_at"] > 0, report["diagnostics"]
    assert slo["alerts"] and {a["name"] for a in slo["alerts"]} == burn_alerts

    # A quiet moment: each sidecar has counted every line its pod wrote; Prometheus scrapes that.
    wait_for(
        lambda: all(m.counters() == m.written() for m in fleet),
        describe=lambda: f"{[(m.name, m.counters(), m.written()) for m in fleet]}\n{why()}",
    )
    expected = {o: sum(m.counters()[o] for m in fleet) for o in ("good", "bad", "excluded")}
    scraped: dict[str, float | None] = {}

    def prometheus_agrees() -> bool:
        by_outcome = prometheus.query(
            f'sum by (slo, outcome) (slotail_sli_events_total{{slo="{SLO}"}})', time.time()
        )
        scraped.update({o: value(by_outcome, outcome=o) for o in expected})
        scraped["all"] = value(
            prometheus.query("sum by (slo) (slotail_sli_events_total)", time.time()), slo=SLO
        )
        return scraped == {**expected, "all": sum(expected.values())}

    wait_for(prometheus_agrees, describe=lambda: f"sidecars {expected}, prometheus {scraped}\n{why()}")

    # Every rule evaluated so far did so cleanly (the 5m-interval long-window group may not have run yet).
    health = [(g["name"], r["health"]) for g in prometheus.rule_groups() for r in g["rules"]]
    assert all(h == "ok" for group, h in health if group != "slotail-sli-long"), f"{health}\n{why()}"
    assert all(h in ("ok", "unknown") for _, h in health), f"{health}\n{why()}"
