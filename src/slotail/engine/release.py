"""Release decisions from budget policy: the first rule whose condition holds for some SLO decides.

Seed 000's weekly review, for example: FREEZE when an SLO has 20 minutes of budget or
less and burns at 1x or more over a day; CAUTIOUS when one has 100 minutes or less;
NORMAL otherwise. Without a `release_policy`, DEFAULT_RULES apply.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from slotail.config.model import ReleaseCondition, ReleaseRule
from slotail.engine.snapshot import Budget, Release
from slotail.timeutil import format_duration

DEFAULT_RULES = (
    ReleaseRule(
        decision="FREEZE",
        when=ReleaseCondition(budget_percent_at_most=0),
        reason="an error budget is spent",
    ),
    ReleaseRule(
        decision="CAUTIOUS",
        when=ReleaseCondition(budget_percent_at_most=25),
        reason="an error budget is below 25%",
    ),
    ReleaseRule(decision="NORMAL"),
)


class SLOFacts(msgspec.Struct, frozen=True):
    """What release conditions read of one SLO: its budget and, per window, burn rate and SLI."""

    name: str
    budget: Budget
    burn: Callable[[int], float | None]  # window seconds -> burn rate (None: no events)
    sli: Callable[[int], float | None]  # window seconds -> SLI ratio
    title: str = ""  # a grouped SLO's series as reports name it (the name when empty)


def _holds(condition: ReleaseCondition, slo: SLOFacts) -> bool:
    """Every condition given holds; one that reads no data (no events) does not."""
    checks: list[bool] = []
    remaining = slo.budget.remaining_ratio
    if condition.budget_minutes_at_most is not None:
        minutes = slo.budget.remaining_minutes
        checks.append(minutes is not None and minutes <= condition.budget_minutes_at_most)
    if condition.budget_percent_at_most is not None:
        checks.append(remaining is not None and remaining * 100 <= condition.budget_percent_at_most)
    if condition.burn_rate_at_least is not None and condition.window is not None:
        burn = slo.burn(condition.window)
        checks.append(burn is not None and burn >= condition.burn_rate_at_least)
    if condition.sli_below is not None and condition.window is not None:
        sli = slo.sli(condition.window)
        checks.append(sli is not None and sli * 100 < condition.sli_below)
    return all(checks)


def describe(condition: ReleaseCondition) -> str:
    """The condition in words: `budget ≤ 20 min and burn ≥ 1x over 1d`."""
    window = format_duration(condition.window) if condition.window is not None else ""
    parts = (
        (condition.budget_minutes_at_most, "budget ≤ {:g} min"),
        (condition.budget_percent_at_most, "budget ≤ {:g}%"),
        (condition.burn_rate_at_least, "burn ≥ {:g}x over " + window),
        (condition.sli_below, "SLI < {:g}% over " + window),
    )
    return " and ".join(text.format(value) for value, text in parts if value is not None)


def decide(rules: tuple[ReleaseRule, ...], slos: list[SLOFacts]) -> Release:
    """The first rule that holds (its `when` for any chosen SLO, or no `when`)."""
    for rule in rules:
        if rule.when is None:
            return Release(rule.decision, rule.reason, ())
        chosen = [s for s in slos if rule.when.slos is None or s.name in rule.when.slos]
        met = tuple(s.title or s.name for s in chosen if _holds(rule.when, s))
        if met:
            return Release(rule.decision, rule.reason, met, describe(rule.when))
    return Release("NORMAL", "", ())  # unreachable for a validated config: its last rule has no `when`
