"""The batch classifier: classifying by cached key gives exactly what the per-line rules give."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.classify import Classifier
from slotail.config.load import load_config_text
from slotail.parse import ParsedBatch

CONFIG = """
slos:
  - name: availability
    objective: 99.5
    sli:
      events: {event: req, path: ["/a", "/b"]}
      bad: {status: {gte: 500}}
      exclude: {status: [429, 0, 1, true]}
  - name: latency
    objective: 95
    sli:
      events: {event: req}
      exclude: {status: {gte: 500}}
      latency: {field: ms, unit: ms, threshold: 300}
  - name: nested-latency
    objective: 95
    sli:
      events: {any: [{event: req}, {flag: true}]}
      latency: {field: t.ms, unit: s, threshold: 0.5}
  - name: pair
    objective: 99
    sli:
      good: {event: job_ok, not: {flag: false}}
      bad: {event: job_failed}
      exclude: {reason: {regex: "^sig"}}
  - name: good-only
    objective: 99
    sli:
      events: {event: {exists: true}}
      good: {status: {lt: 400}, path: {not: "/b"}}
"""

values = st.one_of(
    st.sampled_from(["req", "job_ok", "job_failed", "/a", "/b", "sig-x", "x"]),
    st.sampled_from([0, 1, 0.0, 1.0, -0.0, True, False, None, 200, 200.0, 429, 500, 503.0, 2**64 - 1]),
    st.floats(allow_nan=False),
    st.integers(-(2**63), 2**63),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(
        st.sampled_from(["ms", "x"]), st.one_of(st.floats(allow_nan=False), st.integers()), max_size=2
    ),
)
objects = st.dictionaries(st.sampled_from(["event", "path", "status", "ms", "t", "flag", "reason"]), values)


def reference(classifier: Classifier, events: list[dict[str, Any]]) -> tuple[list[tuple[int, ...]], int]:
    """Observations (line order, then series) and unmatched lines from the per-line rules."""
    rows, unmatched = [], 0
    for obj in events:
        hits = [(sid, found) for sid, rule in classifier.rules if (found := rule(obj)) is not None]
        unmatched += not hits
        rows += [(sid, outcome, latency) for sid, (outcome, latency) in hits]
    return rows, unmatched


@settings(max_examples=300, deadline=None)
@given(st.lists(objects, max_size=40), st.sampled_from([0, 2, 1 << 14]))
def test_classifying_by_key_equals_the_per_line_rules(events: list[dict[str, Any]], cache_size: int) -> None:
    """Every observation and the unmatched count agree with the rules, whatever the values' types,
    and whether the key cache is empty, full after two keys, or large."""
    classifier = Classifier(load_config_text(CONFIG), cache_size=cache_size)
    batch = ParsedBatch(events, np.arange(len(events), dtype=np.int64))
    for _ in range(2):  # the second pass reads the cache the first one filled
        obs = classifier.classify(batch)
        rows, unmatched = reference(classifier, events)
        got = list(zip(obs.series.tolist(), obs.outcome.tolist(), obs.latency_us.tolist(), strict=True))
        assert got == rows
        assert obs.unmatched == unmatched
        assert obs.series.dtype == np.int32 and obs.outcome.dtype == np.int8


def test_true_and_one_never_share_a_cached_outcome() -> None:
    """`True == 1` in Python, but a status of true is not the number 1."""
    classifier = Classifier(load_config_text(CONFIG))
    events = [{"event": "req", "path": "/a", "status": s} for s in (1, True, 1.0, True, 1)]
    obs = classifier.classify(ParsedBatch(events, np.zeros(len(events), np.int64)))
    rows, _ = reference(classifier, events)
    assert list(zip(obs.series.tolist(), obs.outcome.tolist(), obs.latency_us.tolist(), strict=True)) == rows
