"""Match expressions and SLI rules: which lines are events, and which of them are good, bad or excluded."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.classify.classifier import compile_rule
from slotail.classify.match import compile_expr
from slotail.config.expr import ExprParser
from slotail.config.model import SLO
from slotail.outcomes import BAD, EXCLUDED, GOOD

MISSING = object()  # marks "the field is absent" in parametrized cases


def matches(expr: str | dict[str, Any], **fields: Any) -> bool:
    """Whether a match expression (YAML text, as users write it, or a mapping) holds for an object."""
    raw = yaml.safe_load(expr) if isinstance(expr, str) else expr
    parser = ExprParser()
    tree = parser.expr(raw)
    assert parser.problems == []
    obj = {k: v for k, v in fields.items() if v is not MISSING}
    result = compile_expr(tree)(obj)
    assert type(result) is bool
    return result


# --- scalars ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (500, True),
        (500.0, True),
        (501, False),
        ("500", False),
        (True, False),
        (None, False),
        (MISSING, False),
    ],
)
def test_a_number_equals_the_same_number_int_or_float_and_nothing_else(value: Any, expected: bool) -> None:
    """`statusCode: 500` holds for 500 and 500.0, never for the string "500", a boolean, null or absence."""
    assert matches("{statusCode: 500}", statusCode=value) is expected
    assert matches("{statusCode: 500.0}", statusCode=value) is expected


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("{ok: true}", 1),
        ("{ok: true}", 1.0),
        ("{ok: false}", 0),
        ("{ok: 1}", True),
        ("{ok: 0}", False),
        ("{ok: 0}", None),
    ],
)
def test_booleans_and_numbers_never_equal_each_other(expr: str, value: Any) -> None:
    """`true` is not 1 and `false` is not 0, in either direction (unlike Python's `True == 1`)."""
    assert not matches(expr, ok=value)


def test_booleans_equal_booleans() -> None:
    """`ok: true` holds for true only."""
    assert matches("{ok: true}", ok=True)
    assert not matches("{ok: true}", ok=False)
    assert matches("{ok: false}", ok=False)


@pytest.mark.parametrize(
    ("value", "expected"), [("GET", True), ("get", False), (["GET"], False), (None, False)]
)
def test_strings_match_exactly_and_case_sensitively(value: Any, expected: bool) -> None:
    """`method: GET` is an exact, case-sensitive string comparison."""
    assert matches("{method: GET}", method=value) is expected


def test_a_quoted_number_in_the_config_is_a_string() -> None:
    """`statusCode: "500"` matches the string "500" only, never the number 500."""
    assert matches('{statusCode: "500"}', statusCode="500")
    assert not matches('{statusCode: "500"}', statusCode=500)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), (MISSING, False), (0, False), ("", False), (False, False)]
)
def test_null_matches_an_explicit_null_only(value: Any, expected: bool) -> None:
    """`error: null` holds when the field is present and null, not when it is absent or falsy."""
    assert matches("{error: null}", error=value) is expected


# --- lists -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value", "expected"),
    [
        ('{f: ["/api/guides", "/api/health"]}', "/api/health", True),
        ('{f: ["/api/guides", "/api/health"]}', "/api/bookings", False),
        ("{f: [500, 502, 503]}", 502.0, True),
        ("{f: [500, 502, 503]}", 501, False),
        ('{f: ["500"]}', 500, False),
        ("{f: [500]}", "500", False),
        ("{f: [1]}", True, False),
        ("{f: [true]}", 1, False),
        ("{f: [true]}", True, True),
        ("{f: [0, false]}", False, True),
        ("{f: [0, false]}", 0.0, True),
        ("{f: [null, timeout]}", None, True),
        ("{f: [null, timeout]}", MISSING, False),
        ("{f: [timeout]}", None, False),
        ("{f: [500]}", [500], False),
    ],
)
def test_a_list_matches_any_of_its_values_with_scalar_equality(expr: str, value: Any, expected: bool) -> None:
    """A list is "any of", each value compared as a scalar (500 == 500.0; true != 1; "500" != 500)."""
    assert matches(expr, f=value) is expected


# --- numeric comparisons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "below", "at", "above"),
    [
        ("gte", False, True, True),
        ("gt", False, False, True),
        ("lte", True, True, False),
        ("lt", True, False, False),
    ],
)
def test_comparisons_hold_around_the_bound(op: str, below: bool, at: bool, above: bool) -> None:
    """gte/gt/lte/lt against 500, for 499.5, 500, 500.0 and 500.5."""
    expr = f"{{statusCode: {{{op}: 500}}}}"
    assert matches(expr, statusCode=499.5) is below
    assert matches(expr, statusCode=500) is at
    assert matches(expr, statusCode=500.0) is at
    assert matches(expr, statusCode=500.5) is above


@pytest.mark.parametrize("op", ["gte", "gt", "lte", "lt"])
@pytest.mark.parametrize("value", ["600", "400", True, False, None, [600], {"code": 600}, MISSING])
def test_comparisons_hold_for_numbers_only(op: str, value: Any) -> None:
    """Strings (even numeric), booleans, null, containers and absence fail every comparison."""
    assert not matches(f"{{statusCode: {{{op}: 500}}}}", statusCode=value)


def test_several_operators_in_one_mapping_must_all_hold() -> None:
    """`{gte: 400, lt: 500}` is the half-open range [400, 500)."""
    expr = "{statusCode: {gte: 400, lt: 500}}"
    assert [matches(expr, statusCode=v) for v in (399, 400, 499.9, 500)] == [False, True, True, False]


@settings(max_examples=200)
@given(
    st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False)),
    st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False)),
)
def test_comparisons_agree_with_arithmetic_for_any_numbers(value: float, bound: float) -> None:
    """For any JSON number and bound, each operator holds exactly when the inequality does."""
    truth = {"gte": value >= bound, "gt": value > bound, "lte": value <= bound, "lt": value < bound}
    for op, expected in truth.items():
        assert matches({"x": {op: bound}}, x=value) is expected


# --- regex and exists ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("guides", "/api/guides/42", True),  # search, not a full match
        ("^/api/", "/api/guides", True),
        ("^/api/", "/v2/api/guides", False),
        ("^5\\d\\d$", "503", True),
        ("^5\\d\\d$", 503, False),  # numbers are not strings
        ("true", True, False),
        (".*", None, False),
        (".*", MISSING, False),
        (".*", ["x"], False),
    ],
)
def test_regex_searches_strings_only(pattern: str, value: Any, expected: bool) -> None:
    """`regex` is a search anywhere in a string; any other type fails."""
    assert matches({"path": {"regex": pattern}}, path=value) is expected


@pytest.mark.parametrize(
    ("value", "present"), [("x", True), (None, True), (0, True), (False, True), ({}, True), (MISSING, False)]
)
def test_exists_tests_presence_not_truthiness(value: Any, present: bool) -> None:
    """`exists: true` holds for any present value (null included); `exists: false` only for absence."""
    assert matches("{error: {exists: true}}", error=value) is present
    assert matches("{error: {exists: false}}", error=value) is not present


# --- not, any, paths, conjunction ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value", "expected"),
    [
        ("{f: {not: 500}}", 200, True),
        ("{f: {not: 500}}", 500.0, False),
        ("{f: {not: [429, 503]}}", 429, False),
        ("{f: {not: [429, 503]}}", 500, True),
        ("{f: {not: {gte: 500}}}", 499, True),
        ("{f: {not: {gte: 500}}}", 500, False),
        ("{f: {not: {gte: 400, lt: 500}}}", 404, False),
        ("{f: {not: {gte: 400, lt: 500}}}", 503, True),
        ("{f: {not: {regex: ^/internal}}}", "/internal/x", False),
        ("{f: {not: {regex: ^/internal}}}", "/api", True),
        ("{f: {not: {exists: false}}}", 1, True),
        ("{f: {not: {exists: false}}}", MISSING, False),
        ("{f: {not: {not: 500}}}", 500, True),
    ],
)
def test_not_as_a_value_operator_negates_its_test(expr: str, value: Any, expected: bool) -> None:
    """`not:` under a field holds exactly when the inner value test does not."""
    assert matches(expr, f=value) is expected


def test_not_of_a_test_the_field_fails_by_type_or_absence_holds() -> None:
    """`not` is plain negation: a wrong-typed or absent field fails `500`, so it passes `not: 500`."""
    assert matches("{statusCode: {not: 500}}", statusCode="500")
    assert matches("{statusCode: {not: 500}}", statusCode=MISSING)


def test_any_at_mapping_level_is_an_or_of_expressions() -> None:
    """`any: [e1, e2]` holds when at least one expression does."""
    expr = "{any: [{statusCode: {gte: 500}}, {timedOut: true}]}"
    assert matches(expr, statusCode=503, timedOut=False)
    assert matches(expr, statusCode=200, timedOut=True)
    assert not matches(expr, statusCode=200, timedOut=False)
    assert not matches(expr)


def test_any_alongside_other_keys_is_anded_with_them() -> None:
    """`{event: x, any: [...]}`: the event must match AND one of the alternatives."""
    expr = "{event: http_request_completed, any: [{method: GET}, {method: HEAD}]}"
    assert matches(expr, event="http_request_completed", method="HEAD")
    assert not matches(expr, event="http_request_completed", method="POST")
    assert not matches(expr, event="booking_created_atomic", method="GET")


def test_not_at_mapping_level_negates_a_whole_expression() -> None:
    """`not: {a: 1, b: 2}` holds unless both hold."""
    expr = "{not: {method: GET, statusCode: 200}}"
    assert not matches(expr, method="GET", statusCode=200)
    assert matches(expr, method="GET", statusCode=500)
    assert matches(expr, method="POST", statusCode=200)
    assert matches(expr)


def test_nested_any_and_not_compose() -> None:
    """`any` inside `not` inside a conjunction evaluates as boolean algebra says."""
    expr = "{event: e, not: {any: [{statusCode: 429}, {reason: invalid_signature}]}}"
    assert matches(expr, event="e", statusCode=200, reason="ok")
    assert not matches(expr, event="e", statusCode=429, reason="ok")
    assert not matches(expr, event="e", statusCode=200, reason="invalid_signature")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"http": {"response": {"status": 503}}}, True),
        ({"http": {"response": {"status": 200}}}, False),
        ({"http": {"response": 503}}, False),  # a number where an object was expected
        ({"http": [{"response": {"status": 503}}]}, False),  # a list is not an object
        ({"http": "response.status=503"}, False),
        ({"http": None}, False),
        ({"http.response.status": 503}, False),  # a flat key with dots is not the nested path
        ({}, False),
    ],
)
def test_dotted_paths_read_into_nested_objects(obj: dict[str, Any], expected: bool) -> None:
    """`http.response.status` walks objects; anything else along the way simply fails the match."""
    predicate = compile_expr(ExprParser().expr({"http.response.status": {"gte": 500}}))
    assert predicate(obj) is expected


def test_a_dotted_path_can_test_absence() -> None:
    """`exists: false` holds when any step of a dotted path is missing or not an object."""
    predicate = compile_expr(ExprParser().expr({"a.b": {"exists": False}}))
    assert [predicate(o) for o in ({}, {"a": 1}, {"a": {}}, {"a": {"b": None}})] == [True, True, True, False]


def test_several_keys_must_all_hold() -> None:
    """Every key of a mapping is a condition; one failing fails the match."""
    expr = {"event": "http_request_completed", "method": "GET", "path": ["/api/guides", "/api/health"]}
    assert matches(expr, event="http_request_completed", method="GET", path="/api/guides")
    assert not matches(expr, event="http_request_completed", method="POST", path="/api/guides")
    assert not matches(expr, event="http_request_completed", method="GET", path="/api/bookings")
    assert not matches(expr, event="other", method="GET", path="/api/guides")
    assert not matches(expr, method="GET", path="/api/guides")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
EVERY_KIND = [
    "{f: 500}",
    "{f: x}",
    "{f: true}",
    "{f: null}",
    "{f: [1, a, false, null]}",
    "{f: {gte: 1}}",
    "{f: {gt: 1, lt: 9}}",
    "{f: {regex: a}}",
    "{f: {exists: true}}",
    "{f: {not: 1}}",
    "{f.g.h: 1}",
    "{any: [{f: 1}, {f.g: {lte: 2}}]}",
    "{not: {f: {regex: x}}}",
]


@settings(max_examples=200)
@given(json_values, st.sampled_from(EVERY_KIND))
def test_any_json_value_in_any_field_gives_a_boolean_never_an_error(value: Any, expr: str) -> None:
    """A field of the wrong type (or shape) fails or passes a match; it never raises."""
    matches(expr, f=value)


# --- SLI rules -------------------------------------------------------------------------------------


def rule(sli: str) -> Any:
    return compile_rule(SLO.model_validate({"name": "s", "objective": 99, "sli": yaml.safe_load(sli)}))


def test_ratio_sli_with_bad_and_exclude() -> None:
    """events/bad/exclude: non-events are ignored, excluded beats bad, the other events are good."""
    classify = rule("""
        events: {event: http_request_completed, method: GET}
        bad: {statusCode: {gte: 500}}
        exclude: {statusCode: [429]}
    """)
    request = {"event": "http_request_completed", "method": "GET"}
    assert classify({**request, "statusCode": 200}) == (GOOD, -1)
    assert classify({**request, "statusCode": 503}) == (BAD, -1)
    assert classify({**request, "statusCode": 429}) == (EXCLUDED, -1)
    assert classify({**request, "statusCode": "503"}) == (GOOD, -1)  # a string is not >= 500
    assert classify(request) == (GOOD, -1)  # no status: not bad
    assert classify({**request, "method": "POST", "statusCode": 503}) is None
    assert classify({"event": "booking_created_atomic"}) is None


def test_exclude_takes_precedence_over_bad() -> None:
    """An event that is both bad and excluded counts neither way."""
    classify = rule("{events: {event: e}, bad: {statusCode: {gte: 500}}, exclude: {statusCode: 503}}")
    assert classify({"event": "e", "statusCode": 503}) == (EXCLUDED, -1)
    assert classify({"event": "e", "statusCode": 500}) == (BAD, -1)


def test_ratio_sli_with_good_counts_every_other_event_as_bad() -> None:
    """events/good: events matching `good` are good, all other events bad."""
    classify = rule("{events: {event: e}, good: {statusCode: {lt: 500}}}")
    assert classify({"event": "e", "statusCode": 200}) == (GOOD, -1)
    assert classify({"event": "e", "statusCode": 500}) == (BAD, -1)
    assert classify({"event": "e"}) == (BAD, -1)
    assert classify({"event": "f", "statusCode": 200}) is None


def test_event_pair_sli() -> None:
    """good/bad event pair: the good line is good, the bad line bad, excluded ones neither, others ignored."""
    classify = rule("""
        good: {event: stripe_webhook_success}
        bad: {event: stripe_webhook_processing_failed}
        exclude: {reason: invalid_signature}
    """)
    assert classify({"event": "stripe_webhook_success"}) == (GOOD, -1)
    assert classify({"event": "stripe_webhook_processing_failed"}) == (BAD, -1)
    assert classify({"event": "stripe_webhook_processing_failed", "reason": "invalid_signature"}) == (
        EXCLUDED,
        -1,
    )
    assert classify({"event": "stripe_webhook_received", "reason": "invalid_signature"}) is None
    assert classify({"event": "booking_created_atomic"}) is None


LATENCY_SLI = """
    events: {event: http_request_completed}
    exclude: {statusCode: {gte: 500}}
    latency: {field: responseTimeMs, unit: ms, threshold: 1500}
"""


@pytest.mark.parametrize(
    ("latency", "expected"),
    [
        (182.4, (GOOD, 182_400)),
        (1500, (GOOD, 1_500_000)),  # at the threshold is good
        (1500.001, (BAD, 1_500_001)),
        (0, (GOOD, 0)),
        (20_000, (BAD, 20_000_000)),
    ],
)
def test_latency_sli_is_good_at_or_under_the_threshold(latency: float, expected: tuple[int, int]) -> None:
    """Latency above the threshold is bad; the latency is reported in microseconds."""
    event = {"event": "http_request_completed", "statusCode": 200, "responseTimeMs": latency}
    assert rule(LATENCY_SLI)(event) == expected


@pytest.mark.parametrize("latency", [MISSING, None, "182", True, -1, -0.5, [100], {"ms": 100}])
def test_an_event_without_a_usable_latency_is_excluded(latency: Any) -> None:
    """No latency (absent, null, not a number, negative) → excluded, not good and not bad."""
    event = {"event": "http_request_completed", "statusCode": 200}
    if latency is not MISSING:
        event["responseTimeMs"] = latency
    assert rule(LATENCY_SLI)(event) == (EXCLUDED, -1)


def test_latency_sli_honours_exclude_and_events() -> None:
    """A 5xx is excluded whatever its latency; a line that is not an event is ignored."""
    classify = rule(LATENCY_SLI)
    assert (
        classify({"event": "http_request_completed", "statusCode": 503, "responseTimeMs": 9000})[0]
        == EXCLUDED
    )
    assert classify({"event": "booking_created_atomic", "responseTimeMs": 10}) is None


@pytest.mark.parametrize(
    ("unit", "threshold", "value", "expected"),
    [
        ("s", 1.5, 1.2, (GOOD, 1_200_000)),
        ("s", 1.5, 2, (BAD, 2_000_000)),
        ("us", 1500, 1500, (GOOD, 1500)),
        ("us", 1500, 1501, (BAD, 1501)),
        ("ms", 1.5, 1.25, (GOOD, 1250)),
    ],
)
def test_latency_units_scale_to_microseconds(
    unit: str, threshold: float, value: float, expected: tuple[int, int]
) -> None:
    """The threshold is in the field's unit; the reported latency is in microseconds."""
    classify = rule(f"{{events: {{event: e}}, latency: {{field: t, unit: {unit}, threshold: {threshold}}}}}")
    assert classify({"event": "e", "t": value}) == expected


def test_latency_field_may_be_a_dotted_path() -> None:
    """`latency.field` reads nested objects like any other field path."""
    classify = rule("{events: {event: e}, latency: {field: timing.totalMs, threshold: 100}}")
    assert classify({"event": "e", "timing": {"totalMs": 99.5}}) == (GOOD, 99_500)
    assert classify({"event": "e", "timing": 99.5}) == (EXCLUDED, -1)
