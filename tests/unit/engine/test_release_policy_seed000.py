"""Seed 000 PART 7's release-freeze decision tree, as config/slotail.yaml spells it for the budget policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from slotail.config import load_config
from slotail.engine.release import SLOFacts, decide
from slotail.engine.snapshot import Budget

CONFIG = load_config(Path(__file__).parents[3] / "config" / "slotail.yaml")
RULES = tuple(CONFIG.release_policy or ())
DAY_S = 86400


def facts(name: str, minutes: float | None, day_burn: float | None = 0.4, total: float = 216.0) -> SLOFacts:
    ratio = None if minutes is None else minutes / total
    budget = Budget(None if ratio is None else 1 - ratio, ratio, total, minutes)
    return SLOFacts(name, budget, lambda s: day_burn if s == DAY_S else None, lambda s: None)


def test_the_seeds_example_is_cautious_because_of_booking():
    """PART 7's example: 180, 200, 45 and 210 minutes left; booking (45 min) makes the process cautious."""
    slos = [
        facts("availability", 180),
        facts("payment", 200),
        facts("booking", 45, total=432),
        facts("webhook", 210),
    ]
    release = decide(RULES, slos)
    assert (release.decision, release.slos) == ("CAUTIOUS", ("booking",))


@pytest.mark.parametrize(
    ("minutes", "burn", "expected"),
    [
        (20, 1.0, "FREEZE"),  # at most 20 minutes and burning at least 1x over 24 h
        (-30, 1.2, "FREEZE"),  # overspent
        (20, 0.99, "CAUTIOUS"),  # little left but not burning: no freeze
        (15, None, "CAUTIOUS"),  # no events in the last day: no burn to freeze on
        (20.5, 5.0, "CAUTIOUS"),
        (50, 0.1, "CAUTIOUS"),
        (100, 0.1, "CAUTIOUS"),
        (100.1, 3.0, "NORMAL"),  # more than 100 minutes: normal, whatever the burn
        (None, None, "NORMAL"),  # no events at all: nothing holds against releasing
    ],
)
def test_one_slo(minutes, burn, expected):
    assert decide(RULES, [facts("s", minutes, burn)]).decision == expected


def test_the_worst_rule_that_holds_for_any_slo_decides():
    release = decide(RULES, [facts("a", 500), facts("b", 10, 2.0), facts("c", 60)])
    assert (release.decision, release.slos) == ("FREEZE", ("b",))
