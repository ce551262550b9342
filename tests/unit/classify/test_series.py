"""The series registry: a series per distinct group tuple up to the cap, the rest in overflow."""

from __future__ import annotations

import numpy as np

from slotail.classify import Classifier
from slotail.classify.series import OVERFLOW, SeriesRegistry, render
from slotail.config import load_config_text
from slotail.parse import Parser

CONFIG = """
slos:
  - name: plain
    objective: 99
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
  - name: by-region
    objective: 99
    group_by: [region, pod.zone]
    max_series: 2
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
"""
CFG = load_config_text(CONFIG)


def test_values_render_as_strings_missing_as_empty_and_the_rest_as_json():
    """A string stays itself, a missing field is "", numbers, booleans, null and objects are JSON text."""
    from slotail.parse.lines import MISSING

    assert [render(v) for v in ("eu", MISSING, 5, 5.5, True, None, [1, "a"], {"k": 1})] == [
        "eu",
        "",
        "5",
        "5.5",
        "true",
        "null",
        '[1,"a"]',
        '{"k":1}',
    ]


def test_the_first_max_series_tuples_get_series_and_later_ones_fold_into_overflow():
    """Tuples get ids in first-seen order after the SLOs' own series; a third new tuple is overflow."""
    registry = SeriesRegistry(CFG.slos)
    assert len(registry) == 2 and registry.labels[1] == (OVERFLOW, OVERFLOW)
    assert registry.series_id(1, ("eu", "a")) == 2
    assert registry.series_id(1, ("us", "a")) == 3
    assert registry.series_id(1, ("ap", "a")) == 1  # over the cap: the overflow series
    assert registry.series_id(1, ("eu", "a")) == 2  # a kept tuple stays kept
    assert registry.capacity == 2 + 2
    assert registry.visible(0) == [0] and registry.visible(1) == [2, 3]


def test_the_classifier_assigns_group_series_and_counts_overflow_observations():
    """Each line of the grouped SLO lands in its tuple's series; lines beyond the cap are counted."""
    regions = ["eu", "us", "ap", "eu", "sa", "us", None]
    raw = [
        (
            f'{{"timestamp": {1_764_000_000_000 + i}, "event": "req", "status": 200'
            + (f', "region": "{r}"' if r else "")
            + ', "pod": {"zone": "a"}}'
        ).encode()
        for i, r in enumerate(regions)
    ]
    classifier = Classifier(CFG)
    obs = classifier.classify(Parser().parse(raw))
    grouped = obs.series[obs.series != 0]
    registry = classifier.registry
    names = [registry.labels[s] for s in grouped.tolist()]
    assert names == [
        ("eu", "a"),
        ("us", "a"),
        (OVERFLOW,) * 2,
        ("eu", "a"),
        (OVERFLOW,) * 2,
        ("us", "a"),
        (OVERFLOW,) * 2,
    ]
    assert registry.overflow == [0, 3]
    assert np.count_nonzero(obs.series == 0) == len(regions)  # the plain SLO is untouched


def test_state_restores_the_same_ids_and_overflow_for_an_unchanged_slo():
    """A registry rebuilt from its saved state numbers every tuple as before; changed SLOs start empty."""
    registry = SeriesRegistry(CFG.slos)
    for labels in [("eu", "a"), ("us", "b"), ("ap", "c")]:
        registry.series_id(1, labels)
    registry.overflow[1] = 7
    again = SeriesRegistry(CFG.slos)
    again.restore(registry.state(), same=["by-region"])
    assert again.labels == registry.labels and again.overflow == [0, 7]
    fresh = SeriesRegistry(CFG.slos)
    fresh.restore(registry.state(), same=[])
    assert len(fresh) == 2 and fresh.overflow == [0, 0]
