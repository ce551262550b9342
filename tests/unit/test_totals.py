"""The daemon's cumulative counters: what a checkpoint keeps, and what a changed config drops."""

from __future__ import annotations

from collections import Counter

from slotail.pipeline import LineStats
from slotail.totals import Totals


def test_field_mismatches_survive_a_checkpoint_and_go_with_their_slo() -> None:
    """Saved and restored as they were; an SLO removed (or redefined) takes its mismatches along."""
    totals = Totals()
    stats = LineStats(mismatches=Counter({("a", "status", "wrong_type"): 3, ("b", "ms", "missing"): 2}))
    totals.add_lines("api", stats)
    totals.add_lines("api", stats)
    restored = Totals.from_json(totals.to_json())
    assert restored.mismatches == Counter({("a", "status", "wrong_type"): 6, ("b", "ms", "missing"): 4})
    assert restored.line_stats().mismatches == restored.mismatches
    restored.keep_slos({"a"})
    assert restored.mismatches == Counter({("a", "status", "wrong_type"): 6})
