"""Seed 000 PART 7's release-freeze decision tree, with its thresholds as parameters."""

from __future__ import annotations

import pytest

from slotail.engine.snapshot import Budget, SLOStatus, Snapshot
from slotail.outputs.freeze import CAUTIOUS, FREEZE, NORMAL, FreezePolicy, decide
from tests.snapshots import slo_status


def slo(name: str, remaining_minutes: float | None, total: float = 216.0) -> SLOStatus:
    ratio = None if remaining_minutes is None else remaining_minutes / total
    consumed = None if ratio is None else 1 - ratio
    return slo_status(name=name, budget=Budget(consumed, ratio, total, remaining_minutes))


def snapshot(*slos: SLOStatus) -> Snapshot:
    return Snapshot(0, slos)


def test_the_seeds_example_is_cautious_because_of_booking():
    """PART 7's example: 180, 200, 45 and 210 minutes left: booking (45 min) makes the process cautious."""
    snap = snapshot(
        slo("availability", 180), slo("payment", 200), slo("booking", 45, 432), slo("webhook", 210)
    )
    decision = decide(snap, dict.fromkeys(["availability", "payment", "booking", "webhook"], 0.4))
    assert decision.decision == CAUTIOUS
    assert decision.driven_by() == ["booking"]
    assert [s.decision for s in decision.slos] == [NORMAL, NORMAL, CAUTIOUS, NORMAL]


@pytest.mark.parametrize(
    ("minutes", "burn", "expected"),
    [
        (20, 1.0, FREEZE),  # at most 20 minutes and burning at least 1x over 24 h
        (5, 3.0, FREEZE),
        (-30, 1.2, FREEZE),  # overspent
        (20, 0.99, CAUTIOUS),  # little left but not burning: no freeze
        (15, None, CAUTIOUS),  # no events in the last day: no burn to freeze on
        (20.5, 5.0, CAUTIOUS),
        (50, 0.1, CAUTIOUS),
        (100, 0.1, CAUTIOUS),
        (100.1, 3.0, NORMAL),  # more than 100 minutes: normal, whatever the burn
    ],
)
def test_one_slo(minutes, burn, expected):
    assert decide(snapshot(slo("s", minutes)), {"s": burn}).decision == expected


def test_the_worst_slo_decides_and_slos_without_events_do_not():
    snap = snapshot(slo("a", 500), slo("b", 10), slo("c", 60), slo("d", None))
    decision = decide(snap, {"a": 0.0, "b": 2.0, "c": 0.0})
    assert decision.decision == FREEZE and decision.driven_by() == ["b"]
    assert decision.slos[3].decision is None and decision.slos[3].reason == "no events"
    assert decide(snapshot(slo("d", None)), {}).decision == NORMAL


def test_thresholds_are_parameters():
    policy = FreezePolicy(freeze_minutes=60, freeze_burn=0.5, normal_minutes=30)
    assert decide(snapshot(slo("s", 50)), {"s": 0.6}, policy).decision == FREEZE
    assert decide(snapshot(slo("s", 50)), {"s": 0.4}, policy).decision == NORMAL
