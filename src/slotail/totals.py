"""Cumulative counters the daemon exposes; checkpointed so they never go backwards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from slotail.classify.classifier import MismatchKey
from slotail.outcomes import NAMES
from slotail.pipeline import LineStats

EventKey = tuple[str, ...]  # (slo, outcome), then a grouped series' (field, value) pairs


@dataclass
class Totals:
    """Counts since the state directory was created."""

    events: Counter[EventKey] = field(default_factory=Counter)
    lines: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, parsed|invalid|unmatched)
    invalid: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, reason)
    dropped: Counter[str] = field(default_factory=Counter)  # reason: future | too_old
    health: Counter[str] = field(default_factory=Counter)  # bytes_read, rotations, truncations, late, ...
    source_errors: Counter[str] = field(default_factory=Counter)  # reason: permission_denied, vanished, ...
    overflow: Counter[str] = field(default_factory=Counter)  # grouped slo: events folded into overflow
    mismatches: Counter[MismatchKey] = field(default_factory=Counter)  # events whose fields were unreadable

    def add_lines(self, source: str, stats: LineStats) -> None:
        self.lines[(source, "parsed")] += stats.parsed
        self.lines[(source, "unmatched")] += stats.unmatched
        self.lines[(source, "invalid")] += stats.invalid_total
        for reason, count in stats.invalid.items():
            self.invalid[(source, reason)] += count
        self.mismatches.update(stats.mismatches)

    def declare(self, slos: list[str]) -> None:
        """Give every SLO all its outcome counters from the start, at 0 (no gaps for rate())."""
        for slo in slos:
            for outcome in NAMES:
                self.events[(slo, outcome)] += 0

    def keep_slos(self, slos: Collection[str]) -> None:
        """Forget the per-SLO counters of every SLO not in `slos`."""
        self.events = Counter({key: n for key, n in self.events.items() if key[0] in slos})
        self.overflow = Counter({slo: n for slo, n in self.overflow.items() if slo in slos})
        self.mismatches = Counter({key: n for key, n in self.mismatches.items() if key[0] in slos})

    def add_events(self, slo: str, counts: list[int], labels: tuple[tuple[str, str], ...] = ()) -> None:
        pairs = tuple(part for pair in labels for part in pair)
        for outcome, count in zip(NAMES, counts, strict=True):
            if count:
                self.events[(slo, outcome, *pairs)] += count

    def line_stats(self) -> LineStats:
        """Lines over every source, as the JSON document reports them."""
        stats = LineStats()
        stats.parsed = sum(n for (_, result), n in self.lines.items() if result == "parsed")
        stats.unmatched = sum(n for (_, result), n in self.lines.items() if result == "unmatched")
        for (_, reason), n in self.invalid.items():
            stats.invalid[reason] += n
        stats.mismatches.update(self.mismatches)
        return stats

    def copy(self) -> Totals:
        return Totals(
            Counter(self.events),
            Counter(self.lines),
            Counter(self.invalid),
            Counter(self.dropped),
            Counter(self.health),
            Counter(self.source_errors),
            Counter(self.overflow),
            Counter(self.mismatches),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [[*k, v] for k, v in self.events.items()],
            "lines": [[*k, v] for k, v in self.lines.items()],
            "invalid": [[*k, v] for k, v in self.invalid.items()],
            "dropped": dict(self.dropped),
            "health": dict(self.health),
            "source_errors": dict(self.source_errors),
            "overflow": dict(self.overflow),
            "mismatches": [[*k, v] for k, v in self.mismatches.items()],
        }

    @staticmethod
    def from_json(doc: dict[str, Any]) -> Totals:
        return Totals(
            Counter({tuple(row[:-1]): row[-1] for row in doc.get("events", [])}),
            Counter({(a, b): n for a, b, n in doc.get("lines", [])}),
            Counter({(a, b): n for a, b, n in doc.get("invalid", [])}),
            Counter(doc.get("dropped", {})),
            Counter(doc.get("health", {})),
            Counter(doc.get("source_errors", {})),
            Counter(doc.get("overflow", {})),
            Counter({(a, b, c): n for a, b, c, n in doc.get("mismatches", [])}),
        )
