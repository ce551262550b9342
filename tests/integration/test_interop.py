"""`slotail import` and `slotail export --format openslo` as real processes on real files.

Export then import gives back the same SLOs: the backfill JSON of both configs over the same logs is
identical (the seed configs, whose alerts take every shape: budget_percent window sets, fixed burn
rates over one window, sli_below, for, min_events, labels, bad_count, percentile, budget_below,
a calendar month, maintenance, group_by). The acceptance specs (tests/data/interop/) import to configs
that `slotail check` accepts once their SLIs are filled in.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import yaml

from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import iso_utc
from tests import scenarios
from tests.golden import run_backfill

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "tests" / "data" / "interop"
T0 = 1_771_459_200 * 10**6  # 2026-02-19T00:00:00Z
HOURS = 4
Shape = Callable[[dict[str, Any], int, np.random.Generator], dict[str, Any] | None]


def slotail(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slotail", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def traffic(seed: int = 3) -> Iterator[tuple[int, dict[str, Any]]]:
    """Seed 000's requests and domain events with an outage, a slow spell and a payment incident."""
    model = TrafficModel(
        rate=4.0,
        incidents=[
            Incident(3600, 20 * 60, "errors", 0.3, "all"),
            Incident(7200, 30 * 60, "latency", 6.0, "all"),
            Incident(10800, 10 * 60, "errors", 0.5, "payment"),
        ],
    )
    for written, line in generate_lines(T0, HOURS * 3600, model, seed):
        yield written, orjson.loads(line)


def seed000(doc: dict[str, Any], written: int, rng: np.random.Generator) -> dict[str, Any] | None:
    return doc


def _request(doc: dict[str, Any]) -> bool:
    return doc.get("event") == "http_request_completed"


def petforce(doc: dict[str, Any], written: int, rng: np.random.Generator) -> dict[str, Any] | None:
    if not _request(doc):
        return None
    return {
        "timestamp": iso_utc(doc["timestamp"] * 1000),
        "service": "petforce-api",
        "message": "request",
        "route": doc["path"],
        "status": doc["statusCode"],
        "duration_ms": doc["responseTimeMs"],
    }


SERVICES = ("authentication", "payment_processing", "core_api", "billing", "reporting", "internal_tools")


def enterprise(doc: dict[str, Any], written: int, rng: np.random.Generator) -> dict[str, Any] | None:
    if not _request(doc):
        return None
    return {
        "@timestamp": iso_utc(doc["timestamp"] * 1000),
        "service": SERVICES[int(rng.integers(len(SERVICES)))],
        "status": doc["statusCode"],
        "duration_ms": doc["responseTimeMs"] / 4,
    }


def bookiji(doc: dict[str, Any], written: int, rng: np.random.Generator) -> dict[str, Any] | None:
    if not _request(doc):
        return None
    if doc["path"] == "/api/health":  # the synthetic monitor's checks
        return {"ts": iso_utc(written), "kind": "synthetic", "ok": doc["statusCode"] < 500}
    route = "/api/payments/create-intent" if doc["path"] == "/api/payments/intent" else doc["path"]
    return {
        "ts": iso_utc(doc["timestamp"] * 1000),
        "kind": "request",
        "route": route,
        "status": doc["statusCode"],
        "duration_ms": doc["responseTimeMs"],
    }


def avalo(doc: dict[str, Any], written: int, rng: np.random.Generator) -> dict[str, Any] | None:
    if not _request(doc):
        return None
    failed = doc["statusCode"] >= 500
    if doc["path"] == "/api/payments/intent":
        return {
            "time": iso_utc(doc["timestamp"] * 1000),
            "metric": "product.wallet.spend",
            "status": "failed" if failed else "ok",
            "latency_ms": doc["responseTimeMs"],
        }
    return {
        "time": iso_utc(doc["timestamp"] * 1000),
        "metric": "infra.http.request",
        "region": ("eu", "us", "apac")[int(rng.integers(3))],
        "tier": "core" if doc["path"] == "/api/guides" else "secondary",
        "success": not failed,
        "latency_ms": doc["responseTimeMs"],
    }


def write_log(path: Path, shape: Shape) -> Path:
    rng = np.random.default_rng(11)
    with path.open("wb") as out:
        for written, doc in traffic():
            line = shape(doc, written, rng)
            if line is not None:
                out.write(orjson.dumps(line) + b"\n")
    return path


PACKS = {
    "slotail.yaml": seed000,  # google-30d: budget_percent, short windows; a release policy
    "examples/malebangkok.yaml": seed000,  # fixed burn rates over one window, sli_below, percentile
    "examples/petforce.yaml": petforce,  # budget_below with `for`, sli_below, a multi-window burn rate
    "examples/enterprise.yaml": enterprise,  # a default policy with min_events and labels, budget_below
    "examples/bookiji.yaml": bookiji,  # a calendar month, monthly maintenance, bad_count
    "examples/avalo.yaml": avalo,  # group_by, bad_count, percentile, sli_below with min_events
}


def round_trip(tmp_path: Path, config: Path) -> Path:
    """The config exported as OpenSLO and imported back: the new config's path."""
    exported = slotail("export", "--format", "openslo", "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    openslo = tmp_path / "openslo.yaml"
    openslo.write_text(exported.stdout)
    imported = slotail("import", str(openslo))
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.splitlines()[:-1] == []  # nothing lost: no note but the summary
    back = tmp_path / "imported.yaml"
    back.write_text(imported.stdout)
    return back


@pytest.mark.parametrize("pack", list(PACKS))
def test_export_then_import_gives_the_same_backfill(tmp_path: Path, pack: str) -> None:
    """The exported and re-imported config reports the same JSON, to the last alert interval."""
    config = REPO / "config" / pack
    log = write_log(tmp_path / "app.log", PACKS[pack])
    original = run_backfill(config, [log])
    assert any(a["intervals"] for slo in original["slos"] for a in slo["alerts"])  # the logs fire alerts
    assert run_backfill(round_trip(tmp_path, config), [log]) == original


def test_the_golden_scenario_round_trips(tmp_path: Path) -> None:
    """tests/scenarios.py's config (a 7d period, `for` and `min_events` on a single-window alert)."""
    config = tmp_path / "scenario.yaml"
    config.write_text(scenarios.CONFIG)
    scenario = scenarios.generate(6 * 3600, 3.0, seed=5, error=lambda t: 0.2 if 7200 < t < 9000 else 0.002)
    log = scenarios.write(tmp_path / "s.log", scenarios.lines(scenario), "plain")
    original = run_backfill(config, [log], "--step", "30s")
    assert any(a["intervals"] for slo in original["slos"] for a in slo["alerts"])
    assert run_backfill(round_trip(tmp_path, config), [log], "--step", "30s") == original


BUDGETS = """
store: {bucket: 10s}
timestamp: {field: ts}
slos:
  - name: availability
    objective: 99.5
    period: week
    budgeting: timeslices
    slice: 5m
    slice_target: 95
    sli: {events: {event: req, path: /a}, bad: {status: {gte: 500}}}
    alerts:
      - {name: soon, severity: page, exhausts_within: 12h, window: 30m}
      - {name: fast, severity: page, burn_rate: 14.4, long_window: 1h, short_window: 5m}
  - name: latency
    objective: 95
    period: quarter
    budgeting: timeslices
    slice: 30s
    slice_target: 90
    empty_slices: skip
    sli: {events: {event: req}, latency: {field: ms, unit: ms, threshold: 300}}
    alerts:
      - {name: slow, severity: ticket, burn_rate: 6, window: 1h}
"""


def test_timeslices_calendar_weeks_and_quarters_and_exhaustion_alerts_round_trip(tmp_path: Path) -> None:
    """Timeslices (a 30 s slice, not whole minutes, in an annotation; skipped empty slices) as OpenSLO
    `Timeslices`, a week and a quarter as calendar periods, an exhaustion alert in an annotation."""
    config = tmp_path / "budgets.yaml"
    config.write_text(BUDGETS)
    exported = slotail("export", "--format", "openslo", "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    docs = [d for d in yaml.safe_load_all(exported.stdout) if d["kind"] == "SLO"]
    assert [d["spec"]["budgetingMethod"] for d in docs] == ["Timeslices", "Timeslices"]
    assert [d["spec"]["objectives"][0]["timeSliceTarget"] for d in docs] == [0.95, 0.9]
    assert [d["spec"]["timeWindow"][0]["duration"] for d in docs] == ["1w", "1Q"]
    assert not any(d["spec"]["timeWindow"][0]["isRolling"] for d in docs)
    scenario = scenarios.generate(8 * 3600, 1.0, seed=3, error=lambda t: 0.3 if 3600 < t < 5400 else 0.002)
    log = scenarios.write(tmp_path / "s.log", scenarios.lines(scenario), "plain")
    original = run_backfill(config, [log])
    assert any(a["intervals"] for slo in original["slos"] for a in slo["alerts"])
    assert run_backfill(round_trip(tmp_path, config), [log]) == original


# ---- acceptance: the OpenSLO and Sloth specs import to configs that check once filled in ----------

FILLED = {  # a ratio SLI and a latency SLI over seed 000's request lines
    "ratio": {"events": {"event": "http_request_completed"}, "bad": {"statusCode": {"gte": 500}}},
    "latency": {"events": {"event": "http_request_completed"}},
}


def fill_in(config: dict[str, Any]) -> int:
    """Replace each placeholder SLI with log matchers, keeping an imported latency threshold."""
    filled = 0
    for slo in config["slos"]:
        sli = slo["sli"]
        if "placeholder" not in sli:
            continue
        latency = sli.get("latency")
        slo["sli"] = dict(FILLED["latency" if latency else "ratio"])
        if latency:
            slo["sli"]["latency"] = latency | {"field": "responseTimeMs"}
        filled += 1
    return filled


@pytest.mark.parametrize(
    ("spec", "slos"),
    [
        (
            "openslo.yaml",
            {"main-page-availability": 99.5, "search-latency-fast": 95, "search-latency-tolerable": 99},
        ),
        ("sloth.yaml", {"requests-availability": 99.9, "requests-latency": 99}),
    ],
)
def test_the_acceptance_specs_check_once_filled_in(tmp_path: Path, spec: str, slos: dict[str, float]) -> None:
    imported = slotail("import", str(SPECS / spec))
    assert imported.returncode == 0, imported.stderr
    config = yaml.safe_load(imported.stdout)
    assert {slo["name"]: slo["objective"] for slo in config["slos"]} == slos
    target = tmp_path / "imported.yaml"
    target.write_text(imported.stdout)
    unfilled = slotail("check", "--config", str(target))
    assert unfilled.returncode == 2
    assert unfilled.stderr.count("imported SLI placeholder: replace with events/bad matchers") == len(slos)
    assert fill_in(config) == len(slos)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    checked = slotail("check", "--config", str(target))
    assert checked.returncode == 0, checked.stderr
    # Filled in, the config round-trips through OpenSLO like any other.
    log = write_log(tmp_path / "app.log", seed000)
    original = run_backfill(target, [log])
    assert any(a["intervals"] for slo in original["slos"] for a in slo["alerts"])
    assert run_backfill(round_trip(tmp_path, target), [log]) == original


def test_the_user_examples_are_the_acceptance_specs() -> None:
    """config/examples/interop/ ships the same two specs users are pointed to."""
    for name in ("openslo.yaml", "sloth.yaml"):
        assert (REPO / "config" / "examples" / "interop" / name).read_text() == (SPECS / name).read_text()


def test_an_unreadable_spec_exits_2_naming_each_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: api}\nspec: {budgetingMethod: Sometimes}\n"
    )
    missing = tmp_path / "missing.yaml"
    result = slotail("import", str(broken), str(missing))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{broken}:4: document 1 (SLO api): spec.budgetingMethod:" in result.stderr
    assert f"{missing}: cannot read:" in result.stderr
    assert result.stdout == ""


def test_a_lossy_import_exits_0_listing_each_loss_on_stderr(tmp_path: Path) -> None:
    result = slotail("import", str(SPECS / "openslo.yaml"), str(SPECS / "sloth.yaml"))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "slotail import: 5 SLOs, 5 SLI placeholder(s) to fill in, 17 note(s) above"
    assert len(lines) == 18 and all(line.startswith(str(SPECS)) for line in lines[:-1])
    assert result.stdout.startswith("# slotail config written by `slotail import`")
