"""Reading real log shapes end to end (parse, then classify): keys with dots through JSON Pointers,
declared numbers from numeric strings, and the explicit rule that nothing else is converted."""

from __future__ import annotations

import json
import textwrap

import numpy as np

from slotail.config.load import load_config_text
from slotail.outcomes import BAD, EXCLUDED, GOOD
from slotail.pipeline import Pipeline
from slotail.sources.batch import RawBatch

T0 = "2026-02-19T09:00:00.412Z"


def observe(config_text: str, *objects: dict[str, object]) -> tuple[Pipeline, list[tuple[int, int, int]]]:
    """(series, outcome, latency µs) of every observation of the lines, through the real pipeline."""
    pipeline = Pipeline(load_config_text(textwrap.dedent(config_text)))
    raw = RawBatch("f", [json.dumps({"timestamp": T0, **o}).encode() for o in objects], 0, 0)
    obs, _ = pipeline.observe(raw)
    return pipeline, list(
        zip(obs.series.tolist(), obs.outcome.tolist(), obs.latency_us.tolist(), strict=True)
    )


NGINX = """\
    {fields}
    slos:
      - name: availability
        objective: 99
        group_by: [status]
        sli:
          events: {{request_method: GET}}
          bad: {{status: {{gte: 500}}}}
      - name: latency
        objective: 95
        sli:
          events: {{request_method: GET}}
          latency: {{field: request_time, unit: s, threshold: 0.25}}
"""
QUOTED = [
    {"request_method": "GET", "status": "503", "request_time": "0.300"},
    {"request_method": "GET", "status": "200", "request_time": "0.120"},
    {"request_method": "GET", "status": "-", "request_time": "-"},
]


def test_declared_numeric_strings_are_read_as_numbers_by_matches_latencies_and_groups() -> None:
    """nginx's quoted numbers with `fields: {status: number, request_time: number}`: 503 is bad, 0.300 s
    is over 0.25 s, groups are labelled "503" and "200"; "-" stays a string (neither)."""
    pipeline, got = observe(NGINX.format(fields="fields: {status: number, request_time: number}"), *QUOTED)
    labels = {sid: pipeline.registry.labels[sid] for sid, *_ in got}
    assert [(labels[sid], outcome, us) for sid, outcome, us in got if pipeline.registry.slo_of[sid] == 0] == [
        (("503",), BAD, -1),
        (("200",), GOOD, -1),
        (("-",), GOOD, -1),
    ]
    assert [(outcome, us) for sid, outcome, us in got if pipeline.registry.slo_of[sid] == 1] == [
        (BAD, 300_000),
        (GOOD, 120_000),
        (EXCLUDED, -1),
    ]


def test_undeclared_numeric_strings_never_compare_as_numbers() -> None:
    """The same lines without the declaration: no string is >= 500, no string is a latency."""
    pipeline, got = observe(NGINX.format(fields=""), *QUOTED)
    by_slo = [[outcome for sid, outcome, _ in got if pipeline.registry.slo_of[sid] == slo] for slo in (0, 1)]
    assert by_slo == [[GOOD, GOOD, GOOD], [EXCLUDED, EXCLUDED, EXCLUDED]]


def test_unquoted_numbers_read_the_same_with_or_without_the_declaration() -> None:
    """nginx with numbers unquoted: the declaration changes nothing."""
    lines = [{"request_method": "GET", "status": 503, "request_time": 0.3}]
    with_it = observe(NGINX.format(fields="fields: {status: number, request_time: number}"), *lines)[1]
    assert with_it == observe(NGINX.format(fields=""), *lines)[1]


OTEL = """\
    slos:
      - name: availability
        objective: 99
        group_by: [/http.route]
        sli:
          events: {/http.request.method: GET}
          bad: {/http.response.status_code: {gte: 500}}
      - name: latency
        objective: 95
        sli:
          events: {/attributes/http.request.method: GET}
          latency: {field: /attributes/duration.ns, unit: ns, threshold: 250000000}
"""


def test_json_pointers_read_flat_keys_with_dots_and_nested_ones() -> None:
    """OpenTelemetry's flat `http.response.status_code` (and such keys nested under `attributes`) through
    JSON Pointers, in matches, latencies (ns) and groups."""
    pipeline, got = observe(
        OTEL,
        {"http.request.method": "GET", "http.response.status_code": 503, "http.route": "/items/{id}"},
        {"http.request.method": "GET", "http.response.status_code": 200, "http.route": "/"},
        {"attributes": {"http.request.method": "GET", "duration.ns": 300_000_000}},
        {"http": {"request": {"method": "GET"}, "response": {"status_code": 503}}},  # nested, not flat
    )
    registry = pipeline.registry
    assert [(registry.labels[s], o) for s, o, _ in got if registry.slo_of[s] == 0] == [
        (("/items/{id}",), BAD),
        (("/",), GOOD),
    ]
    assert [(o, us) for s, o, us in got if registry.slo_of[s] == 1] == [(BAD, 300_000)]
    assert registry.slos[0].group_labels == ("http_route",)


def test_a_dotted_path_does_not_read_a_flat_key_with_dots() -> None:
    """`http.response.status_code` written dotted means nested objects: a flat key is not read (so the
    naive config matches nothing, and the pointer form is the one that reads it)."""
    config = OTEL.replace("/http.request.method", "http.request.method")
    _, got = observe(config, {"http.request.method": "GET", "http.response.status_code": 503})
    assert got == []
    assert np.array_equal([o for _, o, _ in observe(OTEL, {"http.request.method": "GET"})[1]], [GOOD])
