"""docker/: the files a Docker engine or a cluster would run, checked without one.

No Docker engine runs here or in CI, so nothing is built or started: the Prometheus and
Alertmanager configs go through promtool and amtool, the dashboard's queries are parsed and
their metric names checked against what a real `slotail run` exports and what the generated
rules record, the rule file is compared with what `slotail rules` prints now, and the compose
file, Dockerfile and Kubernetes manifest are checked for the wiring between them.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from slotail import names
from tests.sidecar import LogWriter, Sidecar, Truth, config_text, wait_until
from tests.tools import require

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
DASHBOARD = DOCKER / "grafana" / "dashboards" / "slotail.json"
RULES = DOCKER / "rules" / "slotail.rules.yaml"
SLOTAIL_CONFIG = DOCKER / "slotail.yaml"
K8S = DOCKER / "k8s" / "sidecar.yaml"
SERVICES = {"demo", "slotail", "prometheus", "alertmanager", "grafana"}
# Series Prometheus itself writes for alerting rules; the only non-slotail name the dashboard may use.
PROMETHEUS_SERIES = {"ALERTS": {"alertname", "alertstate"}}
# Labels Prometheus adds to every scraped series (prometheus.yml adds `service` to the slotail job).
TARGET_LABELS = {"instance", "job", "service"}
LISTEN = "0.0.0.0:9464"


def run(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def slotail(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "slotail", *args)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ---- PromQL: the metric and label names an expression reads ---------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")  # Grafana: $slo, ${slo}, [[slo]]
_MATCHERS = re.compile(r"\{([^{}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
_RANGE = re.compile(r"\[[^\[\]]*\]")  # [5m], [1h:1m], and [ ] once a variable inside is gone
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)", re.IGNORECASE)
_OFFSET = re.compile(r"\boffset\s+-?\w+", re.IGNORECASE)
_AT = re.compile(r"@\s*(?:(?:start|end)\s*\(\s*\)|[-+]?[\d.]+)")
# An identifier not glued to a number (1e3, 0x1f) or to another name; group 2 says a call follows.
_IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "inf",
    "nan",
}


@dataclass
class Names:
    """Metric names an expression selects and label names it matches or groups on."""

    metrics: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)


def promql_names(expr: str) -> Names:
    """Metric and label names of a PromQL expression (Grafana variables allowed).

    Strings go first (they may hold braces or parentheses), then Grafana variables, label
    matchers, ranges and subqueries, grouping clauses, offsets and @ modifiers; what is left is
    operators, numbers and identifiers, and an identifier is a metric unless a call follows it or
    it is a keyword. Selecting by `{__name__=...}` is refused: its metric is in a string.
    """
    found = Names()
    text = _STRING.sub(" ", expr)
    text = _VARIABLE.sub(" ", text)
    for body in _MATCHERS.findall(text):
        found.labels.update(_MATCHER_LABEL.findall(body))
    if "__name__" in found.labels:
        raise ValueError(f"selecting by __name__ is not supported: {expr!r}")
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    for body in _GROUPING.findall(text):
        found.labels.update(label.strip() for label in body.split(",") if label.strip())
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _AT.sub(" ", text)
    for name, call in _IDENTIFIER.findall(text):
        if not call and name.lower() not in _KEYWORDS:
            found.metrics.add(name)
    return found


def variable_exprs(query: str) -> list[str]:
    """The PromQL inside a Grafana Prometheus variable query."""
    if m := re.fullmatch(r"\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*", query, re.DOTALL):
        return [m.group(1)]
    if re.fullmatch(r"\s*(?:label_values\(\s*[a-zA-Z_]\w*\s*\)|label_names\(\s*\))\s*", query):
        return []
    if m := re.fullmatch(r"\s*query_result\((.*)\)\s*", query, re.DOTALL):
        return [m.group(1)]
    if re.fullmatch(r"\s*metrics\(.*\)\s*", query, re.DOTALL):
        raise ValueError(f"a metrics() variable names no metric to check: {query!r}")
    return [query]


@pytest.mark.parametrize(
    ("expr", "metrics", "labels"),
    [
        (
            'sum by (outcome) (rate(slotail_sli_events_total{slo=~"$slo"}[5m]))',
            {"slotail_sli_events_total"},
            {"outcome", "slo"},
        ),
        ('1 - slotail:error_ratio:rate30d{slo="a}b(c"}', {"slotail:error_ratio:rate30d"}, {"slo"}),
        (
            "max by (slo) (foo_bar offset 1h) / on (slo) group_left (severity) baz > bool 0.5e3",
            {"foo_bar", "baz"},
            {"slo", "severity"},
        ),
        (
            r"rate(x_total[$__rate_interval]) and ignoring(instance) y @ end() unless z{a!~'q\'}r'}",
            {"x_total", "y", "z"},
            {"instance", "a"},
        ),
        (
            'count_values("version", slotail_build_info) or vector(0) * Inf + -NaN',
            {"slotail_build_info"},
            set(),
        ),
        ("max_over_time(rate(m[5m])[1h:1m]) > 0x1F", {"m"}, set()),
        (
            "sum(rate(a[${__range}])) without (pod) / sum without(pod)(b) unless on() c",
            {"a", "b", "c"},
            {"pod"},
        ),
        ('histogram_quantile(0.99, sum by (le) (rate(h_bucket{job="x"}[5m])))', {"h_bucket"}, {"le", "job"}),
    ],
)
def test_the_promql_tokenizer_finds_metric_and_label_names(expr, metrics, labels):
    found = promql_names(expr)
    assert (found.metrics, found.labels) == (metrics, labels)


def test_the_promql_tokenizer_refuses_a_selector_by_name():
    with pytest.raises(ValueError, match="__name__"):
        promql_names('{__name__="slotail_lines_total"}')


def test_grafana_variable_queries_yield_their_promql():
    assert variable_exprs("label_values(slotail_objective_ratio, slo)") == ["slotail_objective_ratio"]
    assert variable_exprs('label_values(m{slo=~"$slo"}, window)') == ['m{slo=~"$slo"}']
    assert variable_exprs("label_values(slo)") == []
    assert variable_exprs("query_result(topk(3, m))") == ["topk(3, m)"]
    assert promql_names(variable_exprs("label_values(slotail_objective_ratio, slo)")[0]).metrics == {
        "slotail_objective_ratio"
    }


# ---- what slotail exports and records ---------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    """Sample names and label names a real `slotail run` serves on /metrics."""

    metrics: frozenset[str]
    labels: frozenset[str]
    families: frozenset[str]  # family names as prometheus_client reports them (counters without _total)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """Scrape a live sidecar that has read requests of both SLI kinds and some bad lines."""
    tmp = tmp_path_factory.mktemp("scrape")
    logs = tmp / "logs"
    logs.mkdir()
    config = tmp / "slotail.yaml"
    config.write_text(config_text(logs))
    daemon = Sidecar(tmp, config)
    log = LogWriter(logs / "api.log")
    try:
        daemon.start()
        log.write(Truth().batch(20))  # requests, an unmatched line and one of each invalid kind

        def scrape() -> str | None:
            status, body = daemon.get("/metrics")
            text = body.decode()
            wanted = (
                "slotail_latency_quantile_seconds{",
                "slotail_lag_seconds ",
                "slotail_invalid_lines_total{",
            )
            return text if status == 200 and all(w in text for w in wanted) else None

        families = list(text_string_to_metric_families(wait_until(scrape, describe=daemon.diagnostics)))
    finally:
        log.close()
        daemon.close()
    metrics = {f.name + "_total" if f.type == "counter" else f.name for f in families}
    metrics |= {s.name for f in families for s in f.samples}
    labels = {label for f in families for s in f.samples for label in s.labels}
    yield Exported(frozenset(metrics), frozenset(labels), frozenset(f.name for f in families))


def test_the_scraped_families_are_exactly_those_slotail_names_declares(exported):
    """The scrape the dashboard test relies on: nothing exported is unnamed, nothing named is missing."""
    declared = {
        v for k, v in vars(names).items() if k.isupper() and isinstance(v, str) and v.startswith("slotail_")
    }
    assert exported.families == declared


@pytest.fixture(scope="module")
def rules_text() -> str:
    """What `slotail rules --config docker/slotail.yaml` prints now."""
    proc = slotail("rules", "--config", SLOTAIL_CONFIG)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def recorded(rules: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Recorded series names, and every label name a recorded or alert series can carry."""
    records, labels = set(), set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            labels.update(rule.get("labels", {}))
            if "record" in rule:
                records.add(rule["record"])
                labels.update(promql_names(rule["expr"]).labels)
    return records, labels


def test_the_committed_rules_are_what_slotail_rules_prints_now(rules_text):
    """docker/rules/slotail.rules.yaml cannot go stale: regenerate it as docker/README.md says."""
    assert RULES.read_text(encoding="utf-8") == rules_text, (
        "docker/rules/slotail.rules.yaml is stale; run: "
        ".venv/bin/slotail rules --config docker/slotail.yaml > docker/rules/slotail.rules.yaml"
    )


def test_promtool_accepts_the_compose_prometheus_config_and_its_rule_file():
    promtool = require("promtool", "prometheus")
    proc = run(promtool, "check", "config", DOCKER / "prometheus.yml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "SUCCESS: 1 rule files found" in out
    assert str(RULES.relative_to(ROOT)) in out and f"SUCCESS: {rules_count()} rules found" in out


def rules_count() -> int:
    return sum(len(g["rules"]) for g in load_yaml(RULES)["groups"])


def test_amtool_accepts_the_alertmanager_config():
    amtool = require("amtool", "prometheus-alertmanager")
    proc = run(amtool, "check-config", DOCKER / "alertmanager.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- the dashboard ----------------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a JSON document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def panels(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside (collapsed) rows."""
    for panel in doc.get("panels", []):
        yield panel
        yield from panels(panel)


def dashboard_exprs(doc: dict[str, Any]) -> list[str]:
    """Every PromQL expression: all `expr` fields anywhere, and the query variables' queries."""
    exprs = [node["expr"] for node in walk(doc.get("panels", [])) if isinstance(node.get("expr"), str)]
    for variable in doc["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            exprs += variable_exprs(query["query"] if isinstance(query, dict) else query)
    return exprs


def test_every_metric_the_dashboard_queries_is_exported_by_slotail_or_recorded_by_its_rules(exported):
    doc = dashboard()
    records, rule_labels = recorded(load_yaml(RULES))
    known_metrics = exported.metrics | records | set(PROMETHEUS_SERIES)
    known_labels = exported.labels | rule_labels | TARGET_LABELS | set().union(*PROMETHEUS_SERIES.values())
    used = Names()
    for expr in dashboard_exprs(doc):
        found = promql_names(expr)
        assert found.metrics, f"no metric in {expr!r}"
        unknown = found.metrics - known_metrics
        assert not unknown, f"{expr!r} reads {sorted(unknown)}, which slotail neither exports nor records"
        bad_labels = found.labels - known_labels
        assert not bad_labels, f"{expr!r} uses labels {sorted(bad_labels)} no slotail series has"
        used.metrics |= found.metrics
    # The panels the dashboard promises (docker/README.md) keep their metrics.
    promised = {
        names.BUDGET_REMAINING,
        "slotail:error_budget_remaining:ratio",
        names.OBJECTIVE,
        names.BURN_RATE,
        names.ALERT_ACTIVE,
        names.LATENCY_QUANTILE,
        f"{names.SLI_EVENTS}_total",
        "slotail:burn_rate:rate5m",
        "slotail:burn_rate:rate1h",
        names.LAG,
        names.CHECKPOINT_AGE,
        f"{names.INVALID_LINES}_total",
    }
    assert promised <= used.metrics, f"the dashboard no longer shows {sorted(promised - used.metrics)}"


def test_every_dashboard_query_parses_as_promql(tmp_path):
    """promtool parses each expression (Grafana's variables replaced by sample values) as a recording rule."""
    promtool = require("promtool", "prometheus")
    values = {
        "__rate_interval": "1m",
        "__interval": "15s",
        "__range": "6h",
        "slo": ".+",
        "latency_window": "1h",
    }

    def substitute(expr: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], expr)

    exprs = dashboard_exprs(dashboard())
    group = {
        "name": "dashboard",
        "rules": [{"record": f"dashboard:expr_{i}", "expr": substitute(e)} for i, e in enumerate(exprs)],
    }
    path = tmp_path / "dashboard-exprs.yaml"
    path.write_text(yaml.safe_dump({"groups": [group]}))
    proc = run(promtool, "check", "rules", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_dashboard_has_the_slo_variable_and_a_sound_layout():
    doc = dashboard()
    assert 36 <= doc["schemaVersion"] <= 41
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    slo = variables["slo"]
    query = slo["query"]["query"] if isinstance(slo["query"], dict) else slo["query"]
    assert query == "label_values(slotail_objective_ratio, slo)"
    assert slo["multi"] and slo["includeAll"]
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    every = list(panels(doc))
    ids = [p["id"] for p in every]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    types = {p["type"] for p in every}
    assert {"stat", "bargauge", "timeseries", "state-timeline"} <= types
    for panel in every:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert target["expr"].strip() and target["refId"]
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
    # Every query filters by the slo variable where it reads a per-SLO series.
    for expr in dashboard_exprs(doc):
        if "slo" in promql_names(expr).labels or "{slo=" in expr:
            assert '$slo"' in expr, f"{expr!r} ignores the slo variable"


def test_grafana_provisioning_points_at_the_compose_prometheus_and_the_dashboard():
    compose = load_yaml(COMPOSE)
    grafana = compose["services"]["grafana"]
    [datasource] = load_yaml(DOCKER / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")[
        "datasources"
    ]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert datasource["uid"] == variables["datasource"]["current"]["value"]
    [provider] = load_yaml(DOCKER / "grafana" / "provisioning" / "dashboards" / "slotail.yaml")["providers"]
    folder = host_path(grafana, provider["options"]["path"])
    assert folder is not None and (folder / DASHBOARD.name).is_file(), provider
    provisioning = host_path(grafana, "/etc/grafana/provisioning")
    assert provisioning == DOCKER / "grafana" / "provisioning"
    home = grafana["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    assert home is None or host_path(grafana, home) == DASHBOARD


# ---- docker-compose.yml ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    source: str  # a named volume, or a path relative to docker/
    target: str
    read_only: bool

    @property
    def bind(self) -> bool:
        return self.source.startswith((".", "/"))


def mounts(service: dict[str, Any]) -> list[Mount]:
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            found.append(Mount(source, target, "ro" in "".join(mode).split(",")))
        else:
            found.append(Mount(volume["source"], volume["target"], bool(volume.get("read_only"))))
    return found


def mount_for(service: dict[str, Any], path: str) -> Mount | None:
    """The mount a container path lies on (the deepest one)."""
    candidates = [
        m
        for m in mounts(service)
        if PurePosixPath(path) == PurePosixPath(m.target) or PurePosixPath(path).is_relative_to(m.target)
    ]
    return max(candidates, key=lambda m: len(m.target), default=None)


def host_path(service: dict[str, Any], path: str) -> Path | None:
    """Where a container path of a bind mount lives in the repository."""
    mount = mount_for(service, path)
    if mount is None or not mount.bind:
        return None
    rest = PurePosixPath(path).relative_to(mount.target)
    return (DOCKER / mount.source / rest).resolve()


def argument(command: list[str], flag: str) -> str:
    """The value after `flag` (or of `flag=value`) in a command list."""
    for i, arg in enumerate(command):
        if arg == flag:
            return command[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{flag} not in {command}")


def command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


def test_compose_names_the_five_services_with_pinned_images_and_existing_mounts():
    compose = load_yaml(COMPOSE)
    services = compose["services"]
    assert set(services) == SERVICES
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image})"
        if "build" in service:
            build = service["build"]
            context = (DOCKER / build["context"]).resolve()
            assert context == ROOT, f"{name}: the build context must be the repository root"
            assert (context / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
        else:
            assert re.search(r":v?\d+\.\d+\.\d+$", image), f"{name}: pin an exact version ({image})"
        for mount in mounts(service):
            if mount.bind:
                path = (DOCKER / mount.source).resolve()
                assert path.exists(), f"{name} mounts {mount.source}, which does not exist"
                assert path.is_relative_to(DOCKER), f"{name} mounts {mount.source} from outside docker/"
            else:
                assert mount.source in declared, f"{name}: volume {mount.source} is not declared"


def test_the_compose_sidecar_tails_the_demo_volume_and_its_config_passes_slotail_check():
    services = load_yaml(COMPOSE)["services"]
    demo, sidecar = services["demo"], services["slotail"]
    cmd = command(sidecar)
    assert cmd[0] == "run" and argument(cmd, "--listen") == LISTEN
    config_path = argument(cmd, "--config")
    config_file = host_path(sidecar, config_path)
    assert config_file == SLOTAIL_CONFIG, f"{config_path} should be docker/slotail.yaml"
    proc = slotail("check", "--config", config_file)
    assert proc.returncode == 0, proc.stderr
    # Every source glob and the warm-start archives lie on the volume the demo writes into.
    out = argument(command(demo), "--out")
    demo_volume = mount_for(demo, out)
    assert demo_volume is not None and not demo_volume.bind and not demo_volume.read_only
    globs = [p for source in load_yaml(SLOTAIL_CONFIG)["sources"] for p in source["paths"]]
    globs.append(argument(cmd, "--backfill"))
    for pattern in globs:
        mount = mount_for(sidecar, pattern)
        assert mount is not None and mount.source == demo_volume.source, (
            f"{pattern} is not on the demo's volume"
        )
        assert mount.read_only, "the sidecar mounts the logs read-only"
        assert PurePosixPath(pattern).is_relative_to(PurePosixPath(out))
    # State on a volume of its own.
    state = mount_for(sidecar, argument(cmd, "--state-dir"))
    assert state is not None and not state.bind and not state.read_only and state.source != demo_volume.source


def test_compose_prometheus_scrapes_the_sidecar_and_loads_the_mounted_rules():
    services = load_yaml(COMPOSE)["services"]
    prometheus = services["prometheus"]
    config_path = argument(command(prometheus), "--config.file")
    assert host_path(prometheus, config_path) == DOCKER / "prometheus.yml"
    config = load_yaml(DOCKER / "prometheus.yml")
    port = LISTEN.rsplit(":", 1)[1]
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "slotail"]
    assert job["scrape_interval"] == "15s"
    assert [t for c in job["static_configs"] for t in c["targets"]] == [f"slotail:{port}"]
    for rule_file in config["rule_files"]:
        in_container = PurePosixPath(config_path).parent / rule_file
        assert host_path(prometheus, str(in_container)) == RULES
    targets = [
        t for a in config["alerting"]["alertmanagers"] for c in a["static_configs"] for t in c["targets"]
    ]
    assert targets == ["alertmanager:9093"]
    alertmanager = services["alertmanager"]
    am_config = argument(command(alertmanager), "--config.file")
    assert host_path(alertmanager, am_config) == DOCKER / "alertmanager.yml"


def slo_sections(config: dict[str, Any]) -> dict[str, Any]:
    return {key: config.get(key) for key in ("timestamp", "defaults", "store", "slos", "alerts")}


def test_the_docker_config_has_the_same_slos_as_config_slotail_yaml():
    assert slo_sections(load_yaml(SLOTAIL_CONFIG)) == slo_sections(
        load_yaml(ROOT / "config" / "slotail.yaml")
    )


# ---- Dockerfile ------------------------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, rest = pending.strip().partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    return found


def test_the_dockerfile_builds_a_wheel_and_runs_it_as_a_non_root_user():
    steps = instructions(DOCKER / "Dockerfile")
    args = {}
    for keyword, rest in steps:
        if keyword == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            args[name] = value
    stages = [i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    assert len(stages) >= 2, "multi-stage: build, then runtime"
    final = steps[stages[-1] :]
    for i in stages:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], steps[i][1].split()[0])
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", image), image
    assert "AS build" in steps[stages[0]][1]
    build = steps[stages[0] : stages[-1]]
    assert any(k == "RUN" and "pip wheel" in r for k, r in build)
    assert any(k == "RUN" and "from=build" in r and "pip install" in r for k, r in final)
    users = [r for k, r in final if k == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the runtime runs as a non-root user"
    [entrypoint] = [r for k, r in final if k == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["slotail"]
    copied = []
    for keyword, rest in steps:
        if keyword == "COPY" and "--from" not in rest:
            *sources, destination = [word for word in rest.split() if not word.startswith("--")]
            copied += [(source, destination) for source in sources]
            for source in sources:
                assert (ROOT / source).exists(), (
                    f"COPY {source}: not in the build context (the repository root)"
                )
    # The wheel must carry the named window sets; pyproject maps config/windows into it.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force.get("config/windows") == "slotail/windows"
    assert any(s.rstrip("/") in {"config", "config/windows"} for s, _ in copied)
    # The default command's config is the one the image copies in, docker/slotail.yaml.
    [cmd] = [r for k, r in final if k == "CMD"]
    default = json.loads(cmd)
    assert default[0] == "run" and argument(default, "--listen") == LISTEN
    assert ("docker/slotail.yaml", argument(default, "--config")) in copied


# ---- Kubernetes -------------------------------------------------------------------------------------


def k8s_documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(K8S.read_text(encoding="utf-8")) if d]


def test_the_k8s_sidecar_has_probes_a_non_root_read_only_context_and_the_logs_read_only():
    docs = k8s_documents()
    kinds = {d["kind"]: d for d in docs}
    assert {"ConfigMap", "Deployment"} <= set(kinds)
    pod = kinds["Deployment"]["spec"]["template"]
    spec = pod["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    sidecar = containers.pop("slotail")
    assert containers, "the API container runs beside slotail"
    args = sidecar["args"]
    assert args[0] == "run" and argument(args, "--listen") == LISTEN
    ports = {p["name"]: p["containerPort"] for p in sidecar["ports"]}
    port = int(LISTEN.rsplit(":", 1)[1])

    def probe_port(probe: dict[str, Any]) -> int:
        value = probe["httpGet"]["port"]
        return ports[value] if isinstance(value, str) else value

    assert sidecar["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert sidecar["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert probe_port(sidecar["livenessProbe"]) == probe_port(sidecar["readinessProbe"]) == port
    pod_security, security = spec.get("securityContext", {}), sidecar["securityContext"]
    assert security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True
    assert security.get("runAsUser", pod_security.get("runAsUser", 0)) != 0
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert {"requests", "limits"} <= set(sidecar["resources"])
    # The log volume: an emptyDir the API writes and slotail reads, read-only.
    volumes = {v["name"]: v for v in spec["volumes"]}
    sidecar_mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    writers = {
        m["name"] for c in containers.values() for m in c.get("volumeMounts", []) if not m.get("readOnly")
    }
    config_map = kinds["ConfigMap"]
    config_mount = sidecar_mounts[str(PurePosixPath(argument(args, "--config")).parent)]
    assert volumes[config_mount["name"]]["configMap"]["name"] == config_map["metadata"]["name"]
    config = yaml.safe_load(config_map["data"][PurePosixPath(argument(args, "--config")).name])
    for pattern in (p for source in config["sources"] for p in source["paths"]):
        [log_mount] = [m for path, m in sidecar_mounts.items() if PurePosixPath(pattern).is_relative_to(path)]
        assert log_mount["readOnly"] is True, "slotail mounts the logs read-only"
        assert "emptyDir" in volumes[log_mount["name"]]
        assert log_mount["name"] in writers, "the API writes into the same volume"
    state = argument(args, "--state-dir")
    assert any(
        PurePosixPath(state).is_relative_to(path) and not m.get("readOnly")
        for path, m in sidecar_mounts.items()
    )
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)


def test_the_k8s_config_passes_slotail_check_and_has_the_docker_slos(tmp_path):
    [config_map] = [d for d in k8s_documents() if d["kind"] == "ConfigMap"]
    path = tmp_path / "slotail.yaml"
    path.write_text(config_map["data"]["slotail.yaml"])
    proc = slotail("check", "--config", path)
    assert proc.returncode == 0, proc.stderr
    assert slo_sections(load_yaml(path)) == slo_sections(load_yaml(SLOTAIL_CONFIG))
    assert load_yaml(path)["sources"] == load_yaml(SLOTAIL_CONFIG)["sources"]
