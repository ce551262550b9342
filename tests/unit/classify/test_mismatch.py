"""Field mismatches: on an event, a field the SLI reads and finds missing or of a type it never compares."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slotail.classify.classifier as classifier_module
from slotail.classify import Classifier
from slotail.config.load import load_config_text
from slotail.parse import ParsedBatch, Parser
from slotail.pipeline import parser_for

MISSING, WRONG = "missing", "wrong_type"


def mismatches(sli: str, *events: dict[str, Any]) -> Counter[tuple[str, str]]:
    """(field, reason) counts of one SLO over `events` (dicts), through the batch classifier."""
    config = load_config_text(f"slos:\n  - name: s\n    objective: 99\n    sli: {sli}\n")
    classifier = Classifier(config)
    classifier.classify(ParsedBatch(list(events), np.zeros(len(events), np.int64)))
    return Counter({(field, reason): n for (_, field, reason), n in classifier.mismatches.items()})


RATIO = "{events: {event: req}, bad: {status: {gte: 500}}}"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (503, {}),
        (200.5, {}),
        ("503", {("status", WRONG): 1}),
        (None, {("status", WRONG): 1}),
        (True, {("status", WRONG): 1}),
        ([503], {("status", WRONG): 1}),
        ({"code": 503}, {("status", WRONG): 1}),
    ],
)
def test_a_comparison_reads_numbers_and_flags_any_other_type(status: Any, expected: dict[Any, int]) -> None:
    """`gte` compares numbers: a quoted number, null, a boolean, a list or an object is the wrong type."""
    assert mismatches(RATIO, {"event": "req", "status": status}) == Counter(expected)


def test_a_missing_field_is_flagged_missing_and_only_on_events() -> None:
    """A line that is not an event of the SLO is never looked at."""
    found = mismatches(
        RATIO, {"event": "req"}, {"event": "other"}, {"other": 1}, {"event": "req", "status": 1}
    )
    assert found == Counter({("status", MISSING): 1})


def test_exists_reads_presence_and_never_mismatches() -> None:
    sli = "{events: {event: req}, bad: {error: {exists: true}}, exclude: {probe: {exists: false}}}"
    assert mismatches(sli, {"event": "req"}, {"event": "req", "error": None, "probe": "x"}) == Counter()


def test_a_string_compared_with_a_number_and_a_number_with_a_string_are_wrong_types() -> None:
    sli = "{events: {event: req}, bad: {level: error}, exclude: {code: 429}}"
    found = mismatches(
        sli, {"event": "req", "level": 3, "code": "429"}, {"event": "req", "level": "x", "code": 1}
    )
    assert found == Counter({("level", WRONG): 1, ("code", WRONG): 1})


def test_regex_reads_strings() -> None:
    sli = "{events: {event: req}, bad: {msg: {regex: fail}}}"
    assert mismatches(sli, {"event": "req", "msg": 5}, {"event": "req", "msg": "ok"}) == Counter(
        {("msg", WRONG): 1}
    )


def test_a_list_reads_the_types_of_its_values() -> None:
    """`[429, "429"]` compares numbers and strings; `[429]` numbers only."""
    mixed = "{events: {event: req}, bad: {status: [500, '500']}}"
    assert mismatches(mixed, {"event": "req", "status": "200"}, {"event": "req", "status": 200}) == Counter()
    numbers = "{events: {event: req}, bad: {status: [500, 503]}}"
    assert mismatches(numbers, {"event": "req", "status": "500"}) == Counter({("status", WRONG): 1})


def test_not_reads_what_its_test_reads() -> None:
    """`{not: 200}` on a quoted status holds (so every event is bad), but the field is still flagged."""
    sli = "{events: {event: req}, bad: {status: {not: 200}}}"
    assert mismatches(sli, {"event": "req", "status": "200"}) == Counter({("status", WRONG): 1})
    whole = "{events: {event: req}, bad: {not: {status: {lt: 500}}}}"
    assert mismatches(whole, {"event": "req"}) == Counter({("status", MISSING): 1})


def test_a_condition_already_false_in_the_same_mapping_decides_without_the_field() -> None:
    """`{event: failed, code: ...}` on an event that is not `failed`: `code` does not matter there."""
    sli = "{events: {event: [ok, failed]}, bad: {event: failed, code: {gte: 500}}}"
    found = mismatches(sli, {"event": "ok"}, {"event": "failed"}, {"event": "failed", "code": "503"})
    assert found == Counter({("code", MISSING): 1, ("code", WRONG): 1})


def test_an_any_with_a_branch_that_holds_decides_without_the_others() -> None:
    sli = "{events: {event: req}, bad: {any: [{status: {gte: 500}}, {timeout: true}]}}"
    assert mismatches(sli, {"event": "req", "timeout": True}) == Counter()  # status missing: no matter
    assert mismatches(sli, {"event": "req", "status": 503}) == Counter()
    both = mismatches(sli, {"event": "req", "status": "503"})  # neither branch could say
    assert both == Counter({("status", WRONG): 1, ("timeout", MISSING): 1})
    assert mismatches(sli, {"event": "req", "status": 200}) == Counter({("timeout", MISSING): 1})


def test_an_exclusion_that_holds_stops_the_reading() -> None:
    """An excluded event's `bad` is never read; an exclusion that cannot be read lets `bad` be read."""
    sli = "{events: {event: req}, bad: {status: {gte: 500}}, exclude: {path: /health}}"
    assert mismatches(sli, {"event": "req", "path": "/health", "status": "x"}) == Counter()
    found = mismatches(sli, {"event": "req", "path": 7, "status": "x"})
    assert found == Counter({("path", WRONG): 1, ("status", WRONG): 1})


def test_good_is_read_when_there_is_no_bad() -> None:
    sli = "{events: {event: req}, good: {status: {lt: 500}}}"
    assert mismatches(sli, {"event": "req", "status": "200"}) == Counter({("status", WRONG): 1})


def test_in_an_event_pair_good_and_bad_say_what_is_an_event_and_only_exclude_is_read() -> None:
    sli = "{good: {event: ok, code: 200}, bad: {event: failed}, exclude: {region: test}}"
    found = mismatches(sli, {"event": "ok", "code": "200"}, {"event": "failed"}, {"event": "x", "region": 1})
    assert found == Counter({("region", MISSING): 1})


def test_a_latency_is_read_on_timed_events_only() -> None:
    """Missing or not a number on an event that is not excluded; an excluded one's latency is never read."""
    sli = "{events: {event: req}, exclude: {status: {gte: 500}}, latency: {field: ms, threshold: 300}}"
    events = [
        {"event": "req", "status": 200, "ms": 12},
        {"event": "req", "status": 200, "ms": -1},  # a number: unusable, excluded, but not a mismatch
        {"event": "req", "status": 200, "ms": "12"},
        {"event": "req", "status": 200, "ms": None},
        {"event": "req", "status": 200},
        {"event": "req", "status": 503, "ms": "x"},  # excluded before the latency is read
    ]
    assert mismatches(sli, *events) == Counter({("ms", WRONG): 2, ("ms", MISSING): 1})


@pytest.mark.parametrize("numbers", [(), ("ms",)])
def test_records_tell_a_missing_latency_from_one_that_is_not_a_number(numbers: tuple[str, ...]) -> None:
    """Parsed into records (the latency read as a float, or as any value), the reasons stay apart."""
    config = load_config_text(
        "slos:\n  - {name: s, objective: 99, sli: {events: {event: req}, latency: {field: ms, threshold: 3}}}"
    )
    parser = Parser(fields=["event", "ms"], numbers=numbers)
    lines = [
        b'{"timestamp": 1771491600000, "event": "req", "ms": 1}',
        b'{"timestamp": 1771491600000, "event": "req", "ms": "1"}',
        b'{"timestamp": 1771491600000, "event": "req", "ms": null}',
        b'{"timestamp": 1771491600000, "event": "req", "ms": true}',
        b'{"timestamp": 1771491600000, "event": "req"}',
    ]
    classifier = Classifier(config, layout=parser.layout)
    classifier.classify(parser.parse(lines))
    assert classifier.mismatches == Counter({("s", "ms", WRONG): 3, ("s", "ms", MISSING): 1})


SEVERAL = """
slos:
  - name: availability
    objective: 99.5
    sli:
      events: {event: req, path: ["/a", "/b"]}
      bad: {status: {gte: 500}}
      exclude: {status: [429, "429"], probe: {exists: true}}
  - name: latency
    objective: 95
    sli:
      events: {event: req}
      exclude: {any: [{status: {gte: 500}}, {path: {regex: "^/h"}}]}
      latency: {field: ms, unit: ms, threshold: 300}
  - name: nested
    objective: 95
    sli:
      events: {event: req}
      good: {not: {t.code: {lt: 400}}, flag: {not: false}}
      exclude: {t.ms: {gte: 1, lt: 2}}
  - name: pair
    objective: 99
    sli:
      good: {event: job_ok}
      bad: {event: job_failed}
      exclude: {reason: {regex: "^sig"}}
"""

values = st.one_of(
    st.sampled_from(["req", "job_ok", "job_failed", "/a", "/b", "/h", "sig-x", "503", "429", "x"]),
    st.sampled_from([0, 1, 1.5, True, False, None, 200, 429, 500, 503.0]),
    st.lists(st.integers(), max_size=1),
    st.dictionaries(st.sampled_from(["code", "ms"]), st.sampled_from([1, 1.5, 500, "500", None]), max_size=2),
)
objects = st.dictionaries(
    st.sampled_from(["event", "path", "status", "ms", "t", "flag", "reason", "probe"]), values
).map(lambda o: {"event": "req", **o} if len(o) % 3 else o)


@settings(max_examples=300, deadline=None)
@given(st.lists(objects, max_size=40))
def test_the_cached_and_the_one_by_one_paths_count_the_same_mismatches(events: list[dict[str, Any]]) -> None:
    """Classes cached per key (counted by class) and lines classified one by one (the cache full)
    count every (SLO, field, reason) alike, as dicts and as records."""
    config = load_config_text(SEVERAL)
    batch = ParsedBatch(events, np.zeros(len(events), np.int64))
    cached = Classifier(config)
    cached.classify(batch)
    cached.classify(batch)  # a second pass reads the classes the first one made
    layout = parser_for(config).layout
    assert layout is not None
    records = ParsedBatch([layout.from_dict(e) for e in events], batch.ts_us)
    with_records = Classifier(config, layout=layout)
    with_records.classify(records)
    original = classifier_module.MAX_CLASSES
    try:
        classifier_module.MAX_CLASSES = 0  # no class can be made: every line goes one by one
        one_by_one = Classifier(config)
        one_by_one.classify(batch)
        records_one_by_one = Classifier(config, layout=layout)
        records_one_by_one.classify(records)
    finally:
        classifier_module.MAX_CLASSES = original
    assert cached.mismatches == one_by_one.mismatches
    assert with_records.mismatches == records_one_by_one.mismatches == one_by_one.mismatches
