"""The demo config decides releases as seed 000 PART 7 says, with its own pack's release policy."""

from __future__ import annotations

from pathlib import Path

from slotail.config import load_config
from slotail.engine.release import SLOFacts, decide
from slotail.engine.snapshot import Budget

CONFIGS = Path(__file__).parents[3] / "config"
CONFIG = load_config(CONFIGS / "slotail.yaml")
DAY_S = 86400


def test_config_slotail_yaml_has_the_seed_000_packs_release_policy():
    """One spelling of PART 7's tree: the status page and reports of `make run` decide as the pack does."""
    assert CONFIG.release_policy
    assert CONFIG.release_policy == load_config(CONFIGS / "examples" / "malebangkok.yaml").release_policy


def facts(name: str, minutes: float, total: float) -> SLOFacts:
    ratio = minutes / total
    return SLOFacts(name, Budget(1 - ratio, ratio, total, minutes), lambda s: 0.4, lambda s: 0.999)


def test_the_seeds_example_is_cautious_because_of_booking():
    """PART 7's example: 180, 200, 45 and 210 minutes left; booking (45 min) makes the process cautious."""
    slos = [
        facts("api-availability", 180, 216),
        facts("payment-success", 200, 216),
        facts("booking-success", 45, 432),
        facts("api-latency", 210, 2160),
    ]
    release = decide(tuple(CONFIG.release_policy or ()), slos)
    assert (release.decision, release.slos) == ("CAUTIOUS", ("booking-success",))
