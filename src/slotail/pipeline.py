"""The shared front of the pipeline: raw lines -> parse -> classify, with line accounting."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from itertools import compress
from typing import NamedTuple

import msgspec
import numpy as np

from slotail.classify import Classifier, Observations
from slotail.classify.classifier import MismatchKey, number_fields, read_fields
from slotail.classify.maintenance import Maintenance
from slotail.classify.series import SeriesRegistry
from slotail.config import Config
from slotail.parse import ParsedBatch, Parser
from slotail.parse.envelope import envelope_for
from slotail.parse.timestamps import TimeReader
from slotail.sources.archive import ArchiveSource
from slotail.sources.batch import RawBatch

logger = logging.getLogger("slotail.pipeline")


class LineStats(msgspec.Struct):
    """How many lines were read, parsed, invalid (by reason) and unmatched, and the events whose
    fields the config could not read, by (slo, field, reason)."""

    parsed: int = 0
    unmatched: int = 0
    invalid: Counter[str] = msgspec.field(default_factory=Counter)
    after_until: int = 0  # parsed lines stamped after the pipeline's `until` (backfill's --at): ignored
    mismatches: Counter[MismatchKey] = msgspec.field(default_factory=Counter)

    @property
    def read(self) -> int:
        return self.parsed + self.invalid_total

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid.values())

    def merge(self, other: LineStats) -> None:
        self.parsed += other.parsed
        self.unmatched += other.unmatched
        self.invalid.update(other.invalid)
        self.after_until += other.after_until
        self.mismatches.update(other.mismatches)

    def field_mismatch(self) -> dict[str, dict[str, dict[str, int]]]:
        """The field mismatches as `{slo: {field: {reason: events}}}`, sorted, above 0 only."""
        nested: dict[str, dict[str, dict[str, int]]] = {}
        for (slo, field, reason), count in sorted(self.mismatches.items()):
            if count:
                nested.setdefault(slo, {}).setdefault(field, {})[reason] = count
        return nested


def parser_for(config: Config, whole: bool = False) -> Parser:
    """The line parser a config asks for: records of the fields it reads (whole objects with `whole`),
    timestamps read as it says, declared numbers converted, lines unwrapped from its envelope."""
    stamp = config.timestamp
    return Parser(
        stamp.path,
        fields=None if whole else read_fields(config),
        numbers=() if whole else number_fields(config),
        time=TimeReader(stamp.naive == "utc", stamp.unit, stamp.format),
        coerce=config.number_paths,
        envelope=envelope_for(config.envelope, config.store.max_line_bytes),
    )


class Pipeline:
    """Parses and classifies batches of raw lines, counting every line once.

    With `until_us`, lines stamped later are counted (`after_until`) and go no further: they make
    no observation, and no group series."""

    def __init__(
        self, config: Config, registry: SeriesRegistry | None = None, until_us: int | None = None
    ) -> None:
        self.until_us = until_us
        self.parser = parser_for(config)
        self.classifier = Classifier(config, registry=registry, layout=self.parser.layout)
        self.registry = self.classifier.registry
        self.maintenance = Maintenance(config)
        self.stats = LineStats()
        self._warned: set[MismatchKey] = set()

    def observe(self, raw: RawBatch) -> tuple[Observations, LineStats]:
        """Observations of a batch, and its line counts (also added to `stats`)."""
        return self._observe(self.parser.parse(raw.lines, raw.too_long, raw.file or raw.source))

    def finish(self, source: str) -> tuple[Observations, LineStats] | None:
        """Observations of the lines an envelope still holds in pieces for a file that ended; None
        when it holds none."""
        parsed = self.parser.finish(source)
        return self._observe(parsed) if parsed.parsed or parsed.invalid else None

    def _observe(self, parsed: ParsedBatch) -> tuple[Observations, LineStats]:
        after = self._cut(parsed)
        observations = self.maintenance.apply(self.classifier.classify(parsed), self.registry)
        mismatches = self.classifier.mismatches
        batch = LineStats(parsed.parsed + after, observations.unmatched, parsed.invalid, after, mismatches)
        self.stats.merge(batch)
        return observations, batch

    def _cut(self, parsed: ParsedBatch) -> int:
        """Drop the events stamped after `until_us` from a parsed batch; how many there were."""
        if self.until_us is None:
            return 0
        keep = parsed.ts_us <= self.until_us
        after = len(keep) - int(np.count_nonzero(keep))
        if after:
            parsed.events = list(compress(parsed.events, keep.tolist()))
            parsed.ts_us = parsed.ts_us[keep]
        return after

    def warn(self, lines: LineStats) -> None:
        """Log each (slo, field, reason) of field mismatches once, the first time it is counted."""
        for slo, field, reason in sorted(lines.mismatches.keys() - self._warned):
            logger.warning(
                "an SLO reads a field its events lack or hold as another JSON type: its counts may be "
                "wrong (diagnostics.field_mismatch, slotail_field_mismatch_total; try slotail check --logs)",
                extra={"slo": slo, "field": field, "reason": reason},
            )
            self._warned.add((slo, field, reason))


class ObservedBatch(NamedTuple):
    """One batch of a file, observed: its observations, line counts, and how far reading has got."""

    observations: Observations
    lines: LineStats
    offset: int


def observed_batches(path: str, pipeline: Pipeline, max_line: int, skip: int = 0) -> Iterator[ObservedBatch]:
    """An archive's batches read and observed in this process."""
    offset = 0
    for raw in ArchiveSource(path, max_line, skip=skip).batches():
        obs, lines = pipeline.observe(raw)
        offset = raw.raw_offset
        yield ObservedBatch(obs, lines, offset)
    held = pipeline.finish(path)
    if held is not None:
        yield ObservedBatch(*held, offset)
