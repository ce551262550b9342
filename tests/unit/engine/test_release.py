"""Budget status levels and release decisions from config, at one instant."""

from __future__ import annotations

import numpy as np
import pytest

from slotail.classify import Observations
from slotail.config import load_config_text
from slotail.config.model import ReleaseCondition
from slotail.engine import Engine, ManualClock
from slotail.engine.engine import build_store
from slotail.engine.release import describe
from slotail.errors import ConfigError

US = 1_000_000
T0 = 1_771_200_000 * US
CONFIG = """
defaults: {period: 1d}
budget_policy:
  - {status: ship-fast, above: 80}
  - {status: balanced, above: 50}
  - {status: careful, above: 0}
  - {status: frozen}
slos:
  - name: api
    objective: 99
    sli: {good: {event: ok}, bad: {event: failed}}
  - name: jobs
    objective: 99
    sli: {good: {event: done}, bad: {event: lost}}
    budget_policy: [{status: fine, above: 10}, {status: not-fine}]
release_policy:
  - decision: FREEZE
    reason: jobs burn fast
    when: {slos: [jobs], burn_rate_at_least: 2, window: 1h}
  - decision: HOLD
    when: {budget_minutes_at_most: 7.2}     # half of a 99%/1d budget (14.4 min)
  - decision: SHIP
"""


def snapshot(api_bad: int, jobs_bad_last_hour: int):
    """1000 api events over the day (`api_bad` bad) and 100 jobs in the last hour."""
    config = load_config_text(CONFIG)
    store = build_store(config)
    ts = [T0 - (i + 1) * 80 * US for i in range(1000)] + [T0 - (i + 1) * 30 * US for i in range(100)]
    series = [0] * 1000 + [1] * 100
    outcome = [int(i < api_bad) for i in range(1000)] + [int(i < jobs_bad_last_hour) for i in range(100)]
    n = len(ts)
    store.add(
        Observations(
            np.array(series, np.int32),
            np.array(ts, np.int64),
            np.array(outcome, np.int8),
            np.full(n, -1, np.int64),
            0,
        )
    )
    clock = ManualClock()
    clock.set(T0)
    return Engine(config, store, clock).snapshot()


@pytest.mark.parametrize(
    ("api_bad", "status"),
    [
        (0, "ship-fast"),
        (1, "ship-fast"),
        (2, "balanced"),
        (5, "careful"),
        (9, "careful"),
        (10, "frozen"),
        (12, "frozen"),
    ],
)
def test_status_levels_name_the_first_band_the_remaining_budget_exceeds(api_bad, status):
    """1000 events at 99%: a budget of 10 bad ones; 2 bad leave 80% (not above 80: balanced)."""
    api = snapshot(api_bad, 0).slos[0]
    assert api.budget.remaining_ratio == pytest.approx(1 - api_bad / 10)
    assert api.status == status


def test_status_bands_with_exact_remaining_ratios():
    """The SLO's own levels win over the config's; `above` is strict, the last level catches the rest."""
    api = snapshot(0, 0).slos[0]
    assert (api.budget.remaining_ratio, api.status) == (1.0, "ship-fast")
    jobs = snapshot(0, 1).slos[1]
    assert jobs.budget.remaining_ratio == pytest.approx(0.0) and jobs.status == "not-fine"
    assert snapshot(0, 0).slos[1].status == "fine"


@pytest.mark.parametrize(
    ("api_bad", "jobs_bad", "decision", "slos"),
    [
        (0, 3, "FREEZE", ("jobs",)),  # 3% over the last hour: burn 3x >= 2x
        (0, 1, "HOLD", ("jobs",)),  # burn 1x; jobs has 0 of 14.4 minutes left
        (6, 0, "HOLD", ("api",)),  # api: 40% of 14.4 minutes left (5.76 <= 7.2)
        (0, 0, "SHIP", ()),
    ],
)
def test_the_first_release_rule_that_holds_decides(api_bad, jobs_bad, decision, slos):
    release = snapshot(api_bad, jobs_bad).release
    assert release is not None
    assert (release.decision, release.slos) == (decision, slos)


@pytest.mark.parametrize(
    ("api_bad", "jobs_bad", "rule"),
    [
        (0, 3, "burn ≥ 2x over 1h"),
        (6, 0, "budget ≤ 7.2 min"),
        (0, 0, ""),  # the last rule, with no condition
    ],
)
def test_a_release_decision_names_the_condition_of_the_rule_that_took_it(api_bad, jobs_bad, rule):
    """A rule without `reason` still says why: its condition, in words."""
    release = snapshot(api_bad, jobs_bad).release
    assert release is not None and release.rule == rule


def test_release_conditions_in_words():
    when = ReleaseCondition(budget_minutes_at_most=20, burn_rate_at_least=1.0, window="1d")
    assert describe(when) == "budget ≤ 20 min and burn ≥ 1x over 1d"
    assert describe(ReleaseCondition(budget_percent_at_most=25)) == "budget ≤ 25%"
    assert describe(ReleaseCondition(sli_below=99.5, window="6h")) == "SLI < 99.5% over 6h"


def test_release_rules_need_a_final_default_and_known_slo_names():
    bad = CONFIG.replace("slos: [jobs]", "slos: [nope]").replace("  - decision: SHIP\n", "")
    with pytest.raises(ConfigError) as caught:
        load_config_text(bad)
    text = str(caught.value)
    assert "release_policy[0].when.slos[0]: no SLO is named 'nope'" in text
    assert "release_policy: expected a last rule without `when`" in text
