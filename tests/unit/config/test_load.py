"""Config loading: valid YAML becomes typed models; each mistake is reported with path, line, expectation."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from slotail.config import Config, SLIKind, load_config, load_config_text
from slotail.config.expr import Compare, Eq, FieldTest
from slotail.config.load import Loader
from slotail.errors import ConfigError, ConfigIssue

HOUR, DAY = 3600, 86400
CONFIG_DIR = Path(__file__).resolve().parents[3] / "config"

# Google SRE Workbook, "Alerting on SLOs": (budget spent %, long window h, short window min) per alert.
GOOGLE = {
    "page-fast": (2, 1, 5),
    "page-slow": (5, 6, 30),
    "ticket-fast": (10, 24, 120),
    "ticket-slow": (10, 72, 360),
}

VALID = """\
timestamp:
  field: sli.timestamp
slos:
  - name: api-availability
    objective: 99.5
    sli:
      events: {event: http_request_completed, method: GET}
      bad: {statusCode: {gte: 500}}
      exclude: {statusCode: [429]}
  - name: api-latency
    objective: 95
    period: 7d
    sli:
      events: {event: http_request_completed}
      latency: {field: responseTimeMs, threshold: 1500}
  - name: booking-success
    objective: 99.0
    period: month
    sli:
      good: {event: booking_created_atomic}
      bad: {event: booking_creation_failed}
    alerts:
      - {name: fast, severity: page, burn_rate: 10, long_window: 1h, short_window: 5m}
      - {name: budget, severity: ticket, budget_percent: 5, window: 6h}
alerts: google-30d
"""


def load(text: str) -> Config:
    return load_config_text(textwrap.dedent(text), "test.yaml")


def issues_of(text: str) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.issues


def slo_with_alerts(period: str, alerts: str) -> str:
    return f"""\
        defaults: {{period: {period}}}
        slos:
          - {{name: s, objective: 99.9, sli: {{good: {{e: 1}}, bad: {{e: 2}}}}}}
        alerts: {alerts}
        """


# --- valid configs ---------------------------------------------------------------------------------


def test_a_valid_config_loads_into_typed_models() -> None:
    """SLOs, SLI kinds, objectives as ratios, periods and the timestamp field come out typed."""
    config = load(VALID)
    assert [s.name for s in config.slos] == ["api-availability", "api-latency", "booking-success"]
    assert [s.sli.kind for s in config.slos] == [SLIKind.RATIO, SLIKind.LATENCY, SLIKind.EVENT_PAIR]
    assert config.slos[0].target == pytest.approx(0.995)
    assert config.slos[0].sli.bad == FieldTest(("statusCode",), Compare("gte", 500.0))
    assert config.timestamp.field == "sli.timestamp"
    assert [config.period(s).seconds for s in config.slos] == [30 * DAY, 7 * DAY, None]
    latency = config.slos[1].sli.latency
    assert (latency.field, latency.unit, latency.threshold, latency.percentiles) == (
        "responseTimeMs",
        "ms",
        1500,
        [50, 95, 99],
    )


def test_defaults_apply_when_a_config_says_nothing() -> None:
    """Timestamp field `timestamp`, naive times rejected, 30d period, 10s buckets, no alerts."""
    config = load("slos: [{name: s, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}}]")
    assert (config.timestamp.field, config.timestamp.naive) == ("timestamp", "reject")
    assert config.period(config.slos[0]).seconds == 30 * DAY
    assert config.store.bucket == 10
    assert config.alert_rules(config.slos[0]) == []


@pytest.mark.parametrize("alerts", ["google-30d", "google-28d"])
@pytest.mark.parametrize("period_days", [30, 28])
def test_google_window_sets_derive_factors_from_the_slo_period(alerts: str, period_days: int) -> None:
    """factor = budget% × period ÷ long window: 14.4/6/3/1 over 30d, 13.44/5.6/2.8/0.9333 over 28d."""
    config = load(slo_with_alerts(f"{period_days}d", alerts))
    rules = config.alert_rules(config.slos[0])
    assert [r.name for r in rules] == list(GOOGLE)
    for r in rules:
        percent, long_h, short_min = GOOGLE[r.name]
        assert r.factor == pytest.approx(percent / 100 * period_days * 24 / long_h)
        assert (r.long_s, r.short_s) == (long_h * HOUR, short_min * 60)
    expected = [14.4, 6, 3, 1] if period_days == 30 else [13.44, 5.6, 2.8, 0.9333]
    assert [r.factor for r in rules] == pytest.approx(expected, abs=5e-5)
    assert [r.severity for r in rules] == ["page", "page", "ticket", "ticket"]


def test_a_calendar_month_period_uses_a_nominal_30_days_for_factors() -> None:
    """`period: month` derives the same factors as 30d."""
    config = load(slo_with_alerts("month", "google-30d"))
    assert [r.factor for r in config.alert_rules(config.slos[0])] == pytest.approx([14.4, 6, 3, 1])


def test_budget_percent_and_burn_rate_alerts_of_an_slo_override_the_default_policy() -> None:
    """An SLO's own `alerts:` replace the default; budget_percent 5 over 6h of a 30d month is 6."""
    config = load(VALID)
    own = config.alert_rules(config.slos[2])
    assert [(r.name, r.factor, r.long_s, r.short_s) for r in own] == [
        ("fast", 10, HOUR, 300),
        ("budget", pytest.approx(0.05 * 30 * 24 / 6), 6 * HOUR, None),  # single-window: no short window
    ]
    seven_days = config.alert_rules(config.slos[1])  # the default google-30d set over a 7d period
    assert [r.factor for r in seven_days] == pytest.approx([0.02 * 168, 0.05 * 168 / 6, 0.1 * 7, 0.1 * 7 / 3])


# --- one mistake at a time -------------------------------------------------------------------------


def test_duplicate_yaml_keys_are_reported_with_their_line() -> None:
    """PyYAML keeps the last of two equal keys silently; slotail reports it."""
    issues = issues_of("""\
        slos:
          - name: a
            objective: 99.9
            objective: 99.5
            sli: {good: {e: 1}, bad: {e: 2}}
        """)
    assert [(i.path, i.line) for i in issues] == [("slos[0].objective", 4)]
    assert "duplicate key" in issues[0].message


def test_duplicate_keys_inside_a_match_expression_are_reported() -> None:
    """`{event: a, event: b}` is a mistake too, however deep it is."""
    issues = issues_of("""\
        slos:
          - name: a
            objective: 99
            sli:
              good: {event: a, event: b}
              bad: {event: c}
        """)
    assert [(i.path, i.line) for i in issues] == [("slos[0].sli.good.event", 5)]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("slos:\n  - name: a\n\t objective: 99\n", 3),  # a tab
        ("slos:\n  - name: a: b\n    objective: 99\n", 2),  # a colon in a plain value
        ("slos:\n  - name: a\n    sli: {good: {e: 1}\n    objective: 99\n", 4),  # an unclosed brace
    ],
)
def test_invalid_yaml_is_reported_with_a_line(text: str, line: int) -> None:
    """A YAML syntax error names the line where the parser stopped and says it is not valid YAML."""
    [issue] = issues_of(text)
    assert issue.line == line
    assert "not valid YAML" in issue.message


@pytest.mark.parametrize("text", ["", "# nothing\n", "- a\n- b\n", "just text\n"])
def test_a_document_that_is_not_a_mapping_is_rejected(text: str) -> None:
    """An empty file, a list or a scalar: the message says a mapping with `slos:` is expected."""
    [issue] = issues_of(text)
    assert "expected a mapping" in issue.message


def test_a_config_without_slos_says_slos_is_required() -> None:
    """`slos` is the one required key."""
    [issue] = issues_of("defaults: {period: 30d}\n")
    assert (issue.path, issue.message) == ("slos", "required key is missing")


@pytest.mark.parametrize("objective", ["true", "'99.5'", "0", "100", "150", "-1"])
def test_an_objective_must_be_a_number_strictly_between_0_and_100(objective: str) -> None:
    """A boolean or quoted objective is a mistake, not silently coerced (true would mean 1%)."""
    [issue] = issues_of(
        f"slos: [{{name: a, objective: {objective}, sli: {{good: {{e: 1}}, bad: {{e: 2}}}}}}]"
    )
    assert (issue.path, issue.line) == ("slos[0].objective", 1)


def test_an_unknown_window_set_lists_the_known_ones() -> None:
    """`alerts: google-31d` fails at its line and names the shipped window sets."""
    [issue] = issues_of(slo_with_alerts("30d", "google-31d"))
    assert (issue.path, issue.line) == ("alerts", 4)
    assert "google-30d" in issue.message and "google-28d" in issue.message


@pytest.mark.parametrize("text", ["alerts: [\n", "alerts: 5\n", "\xff"])
def test_a_window_set_file_that_cannot_be_read_is_a_config_issue_at_its_line(
    tmp_path: Path, text: str
) -> None:
    """A window set that is not valid YAML (or UTF-8) is reported at the `alerts:` naming it, not raised."""
    (tmp_path / "mine.yaml").write_bytes(text.encode("latin-1"))
    config = tmp_path / "slotail.yaml"
    config.write_text(textwrap.dedent(slo_with_alerts("30d", "mine.yaml")))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    [issue] = caught.value.issues
    assert (issue.path, issue.line) == ("alerts", 4)
    assert str(tmp_path / "mine.yaml") in issue.message


def test_window_sets_of_the_config_and_of_an_slo_load_from_the_config_folder(tmp_path: Path) -> None:
    """`alerts: own.yaml` reads the file next to the config, at the top level and in an SLO alike."""
    own = "alerts: [{name: own, severity: page, budget_percent: 10, long_window: 1d}]\n"
    (tmp_path / "own.yaml").write_text(own)
    config = tmp_path / "slotail.yaml"
    config.write_text(
        "slos:\n"
        "  - {name: a, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}, alerts: own.yaml}\n"
        "  - {name: b, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}}\n"
        "alerts: google-28d\n"
    )
    loaded = load_config(config)
    assert [r.factor for r in loaded.alert_rules(loaded.slos[0])] == pytest.approx([3.0])
    assert [r.name for r in loaded.alert_rules(loaded.slos[1])] == list(GOOGLE)


def test_duplicate_slo_names_are_reported_at_the_second_name() -> None:
    """Two SLOs with one name: the issue points at the second SLO's `name` key and line."""
    issues = issues_of("""\
        slos:
          - name: a
            objective: 99
            sli: {good: {e: 1}, bad: {e: 2}}
          - name: a
            objective: 99
            sli: {good: {e: 1}, bad: {e: 2}}
        """)
    assert [(i.path, i.line) for i in issues] == [("slos[1].name", 5)]
    assert "'a'" in issues[0].message and "unique" in issues[0].message


def test_duplicate_alert_names_are_reported_at_the_second_alert() -> None:
    """Two alerts of one list with one name: the issue points at the second alert's name."""
    issues = issues_of("""\
        slos:
          - name: a
            objective: 99
            sli: {good: {e: 1}, bad: {e: 2}}
            alerts:
              - {name: x, burn_rate: 2, window: 1h}
              - {name: x, burn_rate: 3, window: 2h}
        """)
    assert [(i.path, i.line) for i in issues] == [("slos[0].alerts[1].name", 7)]
    assert "'x'" in issues[0].message


# --- several mistakes at once ----------------------------------------------------------------------

SEVERAL_MISTAKES = """\
defaults:
  period: 30x
slos:
  - name: api-availability
    objective: 99.5
    sli:
      events: {event: http_request_completed}
      bad: {statusCode: {gte: "500"}, path: {regex: "(unclosed"}}
  - name: Bad Name
    objective: 150
    sli:
      good: {event: a}
  - name: lat
    objective: 95
    sli:
      events: {event: x}
      latency: {field: t, unit: minutes, threshold: -1}
    alerts:
      - {name: a1, burn_rate: 2}
      - {name: a2, burn_rate: 2, long_window: 1h, colour: red}
"""

# (key path, line, words the message must contain to say what was expected)
EXPECTED_ISSUES = [
    ("defaults.period", 2, ["duration", "30x"]),
    ("slos[0].sli.bad.path.regex", 8, ["regular expression"]),
    ("slos[0].sli.bad.statusCode.gte", 8, ["number", "gte"]),
    ("slos[1].name", 9, ["lowercase", "Bad Name"]),
    ("slos[1].objective", 10, ["between 0 and 100"]),
    ("slos[1].sli", 11, ["bad"]),
    ("slos[2].sli.latency.threshold", 17, ["greater than 0"]),
    ("slos[2].sli.latency.unit", 17, ["'ms'", "'s'", "'us'"]),
    ("slos[2].alerts[0]", 19, ["long_window", "window"]),
    ("slos[2].alerts[1].colour", 20, ["unknown key", "long_window", "burn_rate"]),
]


def test_several_mistakes_are_all_reported_with_path_line_and_expectation() -> None:
    """One load reports every problem, each at its own key path and line, saying what was expected."""
    with pytest.raises(ConfigError) as caught:
        load_config_text(SEVERAL_MISTAKES, "several.yaml")
    issues = caught.value.issues
    assert sorted((i.path, i.line) for i in issues) == sorted((p, n) for p, n, _ in EXPECTED_ISSUES)
    for issue in issues:
        words = next(w for p, _, w in EXPECTED_ISSUES if p == issue.path)
        for word in words:
            assert word in issue.message, (issue, word)


def test_the_error_text_lists_every_issue_under_the_file_name() -> None:
    """str(ConfigError) (what the CLI prints) has a header and one `line N: path: message` per issue."""
    with pytest.raises(ConfigError) as caught:
        load_config_text(SEVERAL_MISTAKES, "several.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0] == f"several.yaml: {len(EXPECTED_ISSUES)} problem(s) in config"
    for path, line, _ in EXPECTED_ISSUES:
        assert any(text.strip().startswith(f"line {line}: {path}: ") for text in lines[1:]), path


# --- group_by -------------------------------------------------------------------------------------


def test_group_by_and_max_series_load_with_labels_named_from_the_paths() -> None:
    """Dotted paths and camelCase become snake_case label names; max_series defaults to 1000, per SLO."""
    config = load(
        """\
        slos:
          - {name: a, objective: 99, group_by: [region, user.tier, userId], sli: {good: {e: 1}, bad: {e: 2}}}
          - {name: b, objective: 99, max_series: 5, sli: {good: {e: 1}, bad: {e: 2}}}
        """
    )
    a, b = config.slos
    assert (a.group_by, a.group_labels, a.max_series) == (
        ["region", "user.tier", "userId"],
        ("region", "user_tier", "user_id"),
        1000,
    )
    assert (b.group_by, b.max_series) == ([], 5)


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        ("max_series: 0", "max_series", "greater than or equal to 1"),
        ("group_by: [window]", "group_by", "which slotail's metrics use"),
        ("group_by: [a.b, a_b]", "group_by", "distinct"),
        ("group_by: [userId, user_id]", "group_by", "distinct"),
        ("group_by: [Percentile]", "group_by", "which slotail's metrics use"),
        ('group_by: ["1st"]', "group_by", "not a Prometheus label name"),
        ('group_by: ["/a~2"]', "group_by", "malformed JSON Pointer"),
    ],
)
def test_bad_group_by_or_max_series_is_a_config_error_at_its_key(extra: str, key: str, expected: str) -> None:
    """A cap under 1, a reserved or clashing label, or a path that cannot be a label name stops start-up."""
    issues = issues_of(
        f"""\
        slos:
          - name: a
            objective: 99
            {extra}
            sli: {{good: {{e: 1}}, bad: {{e: 2}}}}
        """
    )
    assert len(issues) == 1
    assert issues[0].path.startswith(f"slos[0].{key}") and issues[0].line == 4
    assert expected in issues[0].message


def _read(text: str, loader: type[yaml.SafeLoader]) -> tuple[Any, list[tuple[int, int]]]:
    parser = loader(text)
    try:
        root = parser.get_single_node()
        assert root is not None
        marks, stack = [], [root]
        while stack:  # every node's start line and column, in document order
            node = stack.pop()
            marks.append((node.start_mark.line, node.start_mark.column))
            if isinstance(node, yaml.MappingNode):
                stack += [part for pair in reversed(node.value) for part in reversed(pair)]
            elif isinstance(node, yaml.SequenceNode):
                stack += reversed(node.value)
        return parser.construct_document(root), marks
    finally:
        parser.dispose()


BUNDLED = sorted(p for p in CONFIG_DIR.glob("**/*.yaml") if "interop" not in p.parts)  # specs, not configs


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_libyaml_reads_every_bundled_config_as_the_pure_python_parser_does(path: Path) -> None:
    """The loader uses libyaml where PyYAML has it; its data and line numbers are PyYAML's own."""
    assert Loader is yaml.CSafeLoader  # the wheels carry libyaml; else this test checks nothing
    text = path.read_text(encoding="utf-8")
    assert _read(text, Loader) == _read(text, yaml.SafeLoader)


# --- what `check` rejects besides types and shapes ---------------------------------------------------


def test_events_with_both_good_and_bad_is_rejected() -> None:
    """`events` + `good` + `bad` would leave events matching neither uncounted: say which to keep."""
    [issue] = issues_of("""\
        slos:
          - name: a
            objective: 99
            sli: {events: {e: 1}, good: {s: 1}, bad: {s: 2}}
        """)
    assert (issue.path, issue.line) == ("slos[0].sli", 4)
    assert "`events`" in issue.message and "`good`" in issue.message and "event pair" in issue.message


def test_duplicate_alert_names_of_the_default_policy_are_reported_at_the_second_alert() -> None:
    issues = issues_of("""\
        slos:
          - {name: a, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}}
        alerts:
          - {name: x, burn_rate: 2, window: 1h}
          - {name: y, burn_rate: 2, window: 1h}
          - {name: x, burn_rate: 3, window: 2h}
        """)
    assert [(i.path, i.line) for i in issues] == [("alerts[2].name", 6)]


def test_duplicate_alert_names_in_a_window_set_file_are_reported_naming_the_file(tmp_path: Path) -> None:
    """A window set of one's own with a name twice: reported at the `alerts:` that loads it, naming it."""
    (tmp_path / "twice.yaml").write_text(
        "alerts:\n  - {name: w, burn_rate: 2, window: 1h}\n  - {name: w, burn_rate: 3, window: 2h}\n"
    )
    text = "slos:\n  - {name: a, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}, alerts: twice.yaml}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text + "alerts: twice.yaml\n", "test.yaml", tmp_path)
    issues = caught.value.issues
    assert [(i.path, i.line) for i in issues] == [("slos[0].alerts", 2), ("alerts", 3)]
    assert all("twice.yaml" in i.message and "'w'" in i.message for i in issues)


def test_an_slos_own_alerts_may_reuse_a_default_alerts_name() -> None:
    """An SLO's own list replaces the default one: the same name in both is no clash."""
    config = load("""\
        slos:
          - name: a
            objective: 99
            sli: {good: {e: 1}, bad: {e: 2}}
            alerts: [{name: page-fast, burn_rate: 10, window: 1h}]
        alerts: google-30d
        """)
    assert [r.name for r in config.alert_rules(config.slos[0])] == ["page-fast"]


SEVERITIES = """\
    severities: [page, ticket]
    slos:
      - name: a
        objective: 99
        sli: {good: {e: 1}, bad: {e: 2}}
        alerts:
          - {name: x, severity: page, burn_rate: 2, window: 1h}
          - {name: y, severity: pager, burn_rate: 2, window: 1h}
      - {name: b, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}}
    alerts:
      - {name: z, severity: tickets, burn_rate: 2, window: 1h}
    """


def test_a_severity_the_config_does_not_list_is_reported_at_its_alert() -> None:
    issues = issues_of(SEVERITIES)
    assert [(i.path, i.line) for i in issues] == [
        ("slos[0].alerts[1].severity", 8),
        ("alerts[0].severity", 11),
    ]
    assert all("page, ticket" in i.message for i in issues)


def test_severities_are_free_when_the_config_does_not_list_them() -> None:
    config = load(SEVERITIES.replace("    severities: [page, ticket]\n", ""))
    assert [r.severity for r in config.alert_rules(config.slos[1])] == ["tickets"]


def test_a_window_sets_severities_are_checked_too() -> None:
    """google-30d pages and tickets: a config allowing only `page` is told of `ticket`."""
    issues = issues_of("        severities: [page]\n" + slo_with_alerts("30d", "google-30d"))
    assert {i.path for i in issues} == {"alerts[2].severity", "alerts[3].severity"}


def test_a_duplicate_slo_name_is_reported_with_the_other_mistakes_of_the_file() -> None:
    """An SLO that fails validation must not hide that two SLOs share a name."""
    issues = issues_of("""\
        defaults: {period: 30x}
        slos:
          - {name: a, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}}
          - {name: a, objective: 101, sli: {good: {e: 1}, bad: {e: 2}}}
          - {name: b, objective: 99, sli: {events: {e: 1}}}
        """)
    assert [(i.path, i.line) for i in issues] == [
        ("defaults.period", 1),
        ("slos[1].name", 4),
        ("slos[1].objective", 4),
        ("slos[2].sli", 5),
    ]


# --- reading real log formats: paths, timestamps, numbers, envelopes --------------------------------

FORMATS = """\
envelope: cri
timestamp: {field: /time.unix, unit: ns}
fields:
  /http.response.status_code: number
  request_time: number
slos:
  - name: otel
    objective: 99
    group_by: [/http.route, "k8s-pod"]
    sli:
      events: {/attributes/http.request.method: GET}
      bad: {/http.response.status_code: {gte: 500}}
  - name: slow
    objective: 95
    sli:
      events: {/a~1b~0c: 1}
      latency: {field: /duration.ns, unit: ns, threshold: 250000000}
"""


def test_pointer_paths_numbers_units_and_envelopes_load() -> None:
    """JSON Pointers wherever a path goes (keys with dots, `~1` for `/`, `~0` for `~`), a `fields:`
    declaration, a timestamp unit, a latency in ns and an envelope come out typed."""
    config = load(FORMATS)
    otel, slow = config.slos
    assert config.envelope == "cri"
    assert (config.timestamp.path, config.timestamp.unit) == (("time.unix",), "ns")
    assert config.number_paths == (("http.response.status_code",), ("request_time",))
    assert otel.group_paths == (("http.route",), ("k8s-pod",))
    assert otel.group_labels == ("http_route", "k8s_pod")
    assert otel.sli.events == FieldTest(("attributes", "http.request.method"), Eq("GET"))
    assert otel.sli.bad.path == ("http.response.status_code",)
    assert slow.sli.events.path == ("a/b~c",)
    assert slow.sli.latency.path == ("duration.ns",)
    assert slow.sli.latency.scale_to_us == 1e-3


def test_a_strptime_format_loads_with_an_offset_or_naive_utc() -> None:
    """nginx's `$time_local` format loads; one without %z needs `naive: utc`."""
    slos = "slos: [{name: a, objective: 99, sli: {good: {e: 1}, bad: {e: 2}}}]\n"
    assert load('timestamp: {field: time_local, format: "%d/%b/%Y:%H:%M:%S %z"}\n' + slos).timestamp.format
    assert load('timestamp: {format: "%Y/%m/%d %H:%M:%S", naive: utc}\n' + slos).timestamp.naive == "utc"


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        ('timestamp: {format: "%H:%M:%S %z"}', "timestamp.format", "with the date"),
        ('timestamp: {format: "%Y/%m/%d %H:%M:%S"}', "timestamp", "has no offset (%z)"),
        ("timestamp: {unit: minutes}", "timestamp.unit", "'s', 'ms', 'us' or 'ns'"),
        ("timestamp: {field: a..b}", "timestamp.field", "dotted field path"),
        ("timestamp: {field: /a~x}", "timestamp.field", "malformed JSON Pointer"),
        ("fields: {status: string}", "fields.status", "'number'"),
        ("fields: {/a~9: number}", "fields./a~9", "malformed JSON Pointer"),
        ("envelope: journald", "envelope", "'docker' or 'cri'"),
    ],
)
def test_bad_format_settings_are_config_errors_at_their_key(extra: str, key: str, expected: str) -> None:
    """A format without a date or an offset, an unknown unit, kind or envelope, a malformed path: each
    an error at its key path."""
    issues = issues_of(
        f"{extra}\nslos: [{{name: a, objective: 99, sli: {{good: {{e: 1}}, bad: {{e: 2}}}}}}]\n"
    )
    assert [(i.path, i.line) for i in issues] == [(key, 1)]
    assert expected in issues[0].message


def test_a_malformed_pointer_in_a_latency_field_names_its_key() -> None:
    """The latency field's path is checked at load, located at its key."""
    issues = issues_of(
        """\
        slos:
          - name: a
            objective: 99
            sli:
              events: {e: 1}
              latency: {field: /d~, threshold: 1}
        """
    )
    assert [(i.path, i.line) for i in issues] == [("slos[0].sli.latency.field", 6)]
    assert "malformed JSON Pointer" in issues[0].message


# --- calendar periods, timeslices, exhaustion-time alerts -----------------------------------------


@pytest.mark.parametrize(("period", "days"), [("week", 7), ("quarter", 90)])
def test_calendar_weeks_and_quarters_derive_factors_from_their_nominal_length(period: str, days: int) -> None:
    """`budget_percent` factors read a week as 7 days and a quarter as 90 (a month as 30)."""
    config = load(slo_with_alerts(period, "[{name: p, budget_percent: 2, long_window: 1h}]"))
    [rule] = config.alert_rules(config.slos[0])
    assert rule.factor == pytest.approx(0.02 * days * 24)
    assert config.period(config.slos[0]).label == period


def test_an_unknown_period_names_the_calendar_periods() -> None:
    [issue] = issues_of(slo_with_alerts("year", "[]"))
    assert issue.path == "defaults.period" and "week, month, quarter" in issue.message


TIMESLICE = """\
    store: {{bucket: 10s}}
    slos:
      - name: s
        objective: 99
        period: {period}
        sli: {{good: {{e: 1}}, bad: {{e: 2}}}}
        {keys}
        alerts:
          - {{name: a, burn_rate: 2, window: {window}, min_events: {min_events}}}
    """


def timeslice(keys: str, period: str = "1d", window: str = "1h", min_events: int = 0) -> str:
    """An SLO with the keys of the flow mapping `keys` (`{slice: 5m}`) among its own."""
    lines = "\n        ".join(f"{k}: {v}" for k, v in yaml.safe_load(keys).items())
    return TIMESLICE.format(period=period, keys=lines, window=window, min_events=min_events)


def test_a_timeslice_slo_loads_its_slicing() -> None:
    config = load(timeslice("{budgeting: timeslices, slice: 5m, slice_target: 95, empty_slices: skip}"))
    slicing = config.slos[0].slicing
    assert slicing is not None and (slicing.seconds, slicing.target, slicing.empty_good) == (300, 0.95, False)


@pytest.mark.parametrize(
    ("keys", "extra", "path", "message"),
    [
        ("{slice: 5m}", {}, "slos[0]", "`slice` goes with `budgeting: timeslices`"),
        ("{budgeting: timeslices, slice: 5m}", {}, "slos[0]", "takes a `slice`"),
        ("{budgeting: timeslices, slice: 7m, slice_target: 95}", {}, "slos[0]", "divides a day"),
        ("{budgeting: timeslices, slice: 15s, slice_target: 95}", {}, "slos[0].slice", "10s buckets"),
        (
            "{budgeting: timeslices, slice: 1h, slice_target: 95}",
            {"period": "90m"},
            "slos[0].period",
            "1h slices",
        ),
        (
            "{budgeting: timeslices, slice: 5m, slice_target: 95}",
            {"window": "7m"},
            "slos[0].alerts[0].window",
            "5m slices",
        ),
        (
            "{budgeting: timeslices, slice: 5m, slice_target: 95}",
            {"min_events": 13},
            "slos[0].alerts[0].min_events",
            "holds 12 slices",
        ),
        ("{budgeting: timeslices, slice: 5m, slice_target: 101}", {}, "slos[0].slice_target", "100"),
    ],
)
def test_timeslice_mistakes_are_reported_at_their_key(
    keys: str, extra: dict[str, Any], path: str, message: str
) -> None:
    """Slices are whole store buckets dividing a day; the period and alert windows whole slices."""
    issues = issues_of(timeslice(keys, **extra))
    assert [(i.path, message in i.message) for i in issues] == [(path, True)], issues


def test_an_exhaustion_alert_takes_one_window_and_a_duration() -> None:
    config = load(slo_with_alerts("30d", "[{name: x, exhausts_within: 1d, window: 1h}]"))
    [rule] = config.alert_rules(config.slos[0])
    assert (rule.threshold, rule.long_s, rule.factor) == (86400, 3600, 30)
    [issue] = issues_of(
        slo_with_alerts("30d", "[{name: x, exhausts_within: 1d, long_window: 1h, short_window: 5m}]")
    )
    assert issue.path == "alerts[0]" and "short_window" in issue.message
    [issue] = issues_of(slo_with_alerts("30d", "[{name: x, exhausts_within: 24, window: 1h}]"))
    assert issue.path == "alerts[0].exhausts_within" and "unit" in issue.message
