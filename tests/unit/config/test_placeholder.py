"""An SLI that `slotail import` could not translate is a placeholder: rejected until filled in."""

from __future__ import annotations

import pytest

from slotail.config import load_config_text
from slotail.errors import ConfigError

PLACEHOLDER = """\
slos:
  - name: availability
    objective: 99.5
    sli:
      events: {event: req}
      bad: {status: {gte: 500}}
  - name: imported
    objective: 99.9
    sli:
      placeholder:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
  - name: imported-latency
    objective: 95
    sli:
      placeholder: {query: "histogram_quantile(0.95, rate(latency_bucket[5m]))"}
      latency: {threshold: 300}
"""


def test_a_placeholder_sli_is_rejected_at_its_key_with_what_to_do() -> None:
    """Each placeholder is one problem at `slos[i].sli.placeholder` and its line, saying to replace it;
    the latency spec beside it is not reported until the placeholder is gone."""
    with pytest.raises(ConfigError) as caught:
        load_config_text(PLACEHOLDER)
    issues = [(i.path, i.line, i.message) for i in caught.value.issues]
    assert [(path, line) for path, line, _ in issues] == [
        ("slos[1].sli.placeholder", 10),
        ("slos[2].sli.placeholder", 16),
    ]
    for _, _, message in issues:
        assert message.startswith("imported SLI placeholder: replace with events/bad matchers")


def test_once_filled_in_the_config_loads() -> None:
    filled = PLACEHOLDER.replace(
        """      placeholder:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
""",
        "      events: {event: req}\n      bad: {status: {gte: 500}}\n",
    ).replace(
        '      placeholder: {query: "histogram_quantile(0.95, rate(latency_bucket[5m]))"}\n'
        "      latency: {threshold: 300}\n",
        "      events: {event: req}\n      latency: {field: ms, threshold: 300}\n",
    )
    config = load_config_text(filled)
    assert [slo.name for slo in config.slos] == ["availability", "imported", "imported-latency"]
