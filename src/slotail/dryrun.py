"""`slotail check --logs`: the pipeline over a sample of log files, saying per SLO what it counted and
which fields it could not read.

The counts and field mismatches are the backfill pipeline's own. Alongside, each
sampled line is decoded whole (the reference decoder) to see the JSON type of
every field the SLOs read, on their events: a field never present, or never of a
type its test compares, is what makes a matcher unable to ever match.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import numpy as np

from slotail.classify.classifier import TIMED, compile_decision
from slotail.classify.mismatch import Reading, compared_kinds, compile_reading, kind
from slotail.config import Config
from slotail.config.expr import (
    AllOf,
    AllValues,
    AnyOf,
    Compare,
    Eq,
    Exists,
    Expr,
    FieldTest,
    NotExpr,
    NotValue,
    OneOf,
    Regex,
    ValueTest,
)
from slotail.config.model import SLO, SLIKind
from slotail.outcomes import BAD, EXCLUDED, GOOD
from slotail.parse.lines import field_getter
from slotail.parse.record import MISSING
from slotail.paths import format_path
from slotail.pipeline import LineStats, Pipeline, parser_for
from slotail.sources.archive import ArchiveSource
from slotail.sources.batch import RawBatch

# What a field's types are tallied over: every line (an event pair's matchers), the SLO's events, or
# its events not excluded (a latency).
LINES, EVENTS, TIMED_EVENTS = "lines", "events", "events not excluded"
KIND_PHRASES = {
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
    "array": "an array",
    "object": "an object",
    "missing": "missing",
}


class FieldUse(msgspec.Struct, frozen=True):
    """One reading of a field by an SLI: which matcher, the field, the types it compares, and how."""

    role: str  # good, bad, exclude, latency
    path: str
    kinds: frozenset[str]
    how: str  # "gte 500", "a latency"
    scope: str  # LINES, EVENTS or TIMED_EVENTS


def describe(test: ValueTest) -> str:
    """A value test as the config writes it: `gte 500`, `"GET"`, `[429, 503]`, `regex ^/api`."""
    if isinstance(test, Eq):
        return _scalar(test.value)
    if isinstance(test, OneOf):
        return "[" + ", ".join(map(_scalar, test.values)) + "]"
    if isinstance(test, Compare):
        return f"{test.op} {test.bound:g}"
    if isinstance(test, Regex):
        return f"regex {test.pattern}"
    if isinstance(test, Exists):
        return f"exists {str(test.present).lower()}"
    if isinstance(test, NotValue):
        return f"not {describe(test.inner)}"
    assert isinstance(test, AllValues)
    return ", ".join(map(describe, test.tests))


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return str(value).lower() if value is not None else "null"
    return f'"{value}"' if isinstance(value, str) else f"{value:g}"


def _leaves(expr: Expr) -> Iterator[FieldTest]:
    if isinstance(expr, FieldTest):
        yield expr
    elif isinstance(expr, NotExpr):
        yield from _leaves(expr.inner)
    else:
        assert isinstance(expr, AllOf | AnyOf)
        for item in expr.items:
            yield from _leaves(item)


def _uses(role: str, expr: Expr | None, scope: str) -> list[FieldUse]:
    """Every test of `expr` that compares types (presence tests never mismatch)."""
    found = []
    for leaf in _leaves(expr) if expr is not None else ():
        kinds = compared_kinds(leaf.test)
        if kinds is not None:
            found.append(FieldUse(role, format_path(leaf.path), kinds, describe(leaf.test), scope))
    return found


def matchers(slo: SLO) -> list[tuple[str, Expr]]:
    """The matchers that decide an SLO's outcomes, which must be able to match: `bad` (else `good`) of
    an events SLI, both of an event pair."""
    sli = slo.sli
    if sli.kind is SLIKind.EVENT_PAIR:
        assert sli.good is not None and sli.bad is not None
        return [("good", sli.good), ("bad", sli.bad)]
    if sli.kind is SLIKind.RATIO:
        return [("bad", sli.bad)] if sli.bad is not None else [("good", sli.good)]
    return []


def field_uses(slo: SLO) -> list[FieldUse]:
    """Every typed reading of a field by an SLO's SLI."""
    sli = slo.sli
    scope = LINES if sli.kind is SLIKind.EVENT_PAIR else EVENTS
    found = [use for role, expr in matchers(slo) for use in _uses(role, expr, scope)]
    found += _uses("exclude", sli.exclude, EVENTS)
    if sli.latency is not None:
        found.append(FieldUse("latency", sli.latency.field, frozenset({"number"}), "a latency", TIMED_EVENTS))
    return found


def read_paths(slo: SLO) -> list[str]:
    """Every field path an SLO reads from a line, in config order."""
    sli = slo.sli
    exprs = [e for e in (sli.events, sli.good, sli.bad, sli.exclude) if e is not None]
    paths = [format_path(leaf.path) for e in exprs for leaf in _leaves(e)]
    paths += [sli.latency.field] if sli.latency is not None else []
    return list(dict.fromkeys([*paths, *slo.group_by]))


class SLOTally:
    """What the sample showed of one SLO: its outcomes, matcher hits, and the types of what it reads."""

    def __init__(self, slo: SLO) -> None:
        self.slo = slo
        self.decide = compile_decision(slo)
        self.uses = field_uses(slo)
        self.getters = {use.path: field_getter(use.path) for use in self.uses}
        self.matchers: list[tuple[str, Reading]] = [(role, compile_reading(e)) for role, e in matchers(slo)]
        self.matched: Counter[str] = Counter()
        self.kinds: dict[tuple[str, str], Counter[str]] = {}  # (scope, path) -> JSON types seen
        self.outcomes = np.zeros(3, np.int64)  # good, bad, excluded: the pipeline's

    def add(self, obj: dict[str, Any]) -> None:
        """Tally one line: the types of the fields in scope, and which matchers it matched."""
        decision = self.decide(obj)
        scopes = {LINES: True, EVENTS: decision is not None, TIMED_EVENTS: decision == TIMED}
        for use in self.uses:
            if scopes[use.scope]:
                self.kinds.setdefault((use.scope, use.path), Counter())[
                    kind(self.getters[use.path](obj))
                ] += 1
        pair = self.slo.sli.kind is SLIKind.EVENT_PAIR
        for role, reading in self.matchers:
            if (pair or decision is not None) and reading(obj)[0]:
                self.matched[role] += 1

    @property
    def events(self) -> int:
        return int(self.outcomes.sum())


class Sample(msgspec.Struct):
    """A dry run's findings: line counts, and per SLO its tally."""

    files: int
    lines: LineStats
    tallies: list[SLOTally]
    seen: set[str]  # field paths present in at least one line
    flat: set[str]  # dotted paths never seen that are a top-level key of some line


def sample_lines(path: str, max_line: int, limit: int) -> Iterator[RawBatch]:
    """The batches of a file's first `limit` lines."""
    taken, archive = 0, ArchiveSource(path, max_line)
    try:
        for raw in archive.batches():
            assert isinstance(raw.lines, list)  # an archive gives lists of lines
            lines = raw.lines[: limit - taken]
            taken += len(lines)
            yield RawBatch(raw.source, lines, raw.too_long, raw.raw_offset)
            if taken >= limit:
                return
    finally:
        archive.close()


def run_sample(config: Config, paths: list[str], limit: int) -> Sample:
    """Observe the first `limit` lines of each file as backfill does, and tally what the SLOs read."""
    pipeline = Pipeline(config)
    whole = parser_for(config, whole=True)
    tallies = [SLOTally(slo) for slo in config.slos]
    read = {p for slo in config.slos for p in read_paths(slo)}
    getters = {p: field_getter(p) for p in read}
    seen: set[str] = set()
    flat: set[str] = set()
    slo_of = pipeline.registry.slo_index
    for path in paths:
        for raw in sample_lines(path, config.store.max_line_bytes, limit):
            obs, _ = pipeline.observe(raw)
            series = slo_of()[obs.series] if pipeline.registry.grouped else obs.series
            for i, tally in enumerate(tallies):
                tally.outcomes += np.bincount(obs.outcome[series == i], minlength=3)[[GOOD, BAD, EXCLUDED]]
            for obj in whole.parse(raw.lines, source=raw.source).events:
                seen.update(p for p in read - seen if getters[p](obj) is not MISSING)
                flat.update(p for p in read if "." in p and p in obj)
                for tally in tallies:
                    tally.add(obj)
    return Sample(len(paths), pipeline.stats, tallies, seen, flat - seen)


class Finding(msgspec.Struct):
    """What the sample says of one SLO: its counts, and what it could not read."""

    name: str
    events: dict[str, int]
    field_mismatch: dict[str, dict[str, int]]
    problems: list[str]  # why the SLO cannot read these logs (check exits 1)
    notes: list[str]  # what it could not read, without keeping it from counting

    @property
    def ok(self) -> bool:
        return not self.problems


def _kinds_text(kinds: Iterable[str]) -> str:
    return " or ".join(KIND_PHRASES[k] for k in sorted(kinds))


def _seen_text(seen: Counter[str], compared: frozenset[str]) -> str:
    """`a string in 497, missing in 3`: the types seen that the test does not compare, most first."""
    return ", ".join(f"{KIND_PHRASES[k]} in {n}" for k, n in seen.most_common() if k not in compared)


def _hint(use: FieldUse, seen: Counter[str], sample: Sample) -> str:
    if use.path in sample.flat:
        return f"; the logs have the flat key `{use.path}`: name it as the JSON Pointer `/{use.path}`"
    if use.path not in sample.seen and "." in use.path:
        return "; dots in a path step into nested objects"
    if "number" in use.kinds and seen["string"]:
        return f"; if it holds numbers as strings, declare `fields: {{{use.path}: number}}`"
    if "string" in use.kinds and seen["number"]:
        return "; numbers compare with numbers: write the value unquoted"
    return ""


def _type_finding(use: FieldUse, tally: SLOTally, sample: Sample) -> tuple[str, bool] | None:
    """What a use found of its field's types over its scope, and whether none was a type it compares
    (None when every one was)."""
    seen = tally.kinds.get((use.scope, use.path), Counter())
    total = sum(seen.values())
    if not total or all(k in use.kinds for k in seen):
        return None
    never = not any(seen[k] for k in use.kinds)
    if use.path not in sample.seen:
        return (
            f"{use.role}: {use.path} ({use.how}) was never seen in any line{_hint(use, seen, sample)}",
            never,
        )
    what = "read as a number" if use.role == "latency" else f"compared as {_kinds_text(use.kinds)}"
    found = f"was {_seen_text(seen, use.kinds)} of {total} {use.scope}"
    return f"{use.role}: {use.path} is {what} ({use.how}) but {found}{_hint(use, seen, sample)}", never


def find(tally: SLOTally, sample: Sample) -> Finding:
    """Judge one SLO from the sample: it fails when it matched no event, or a field its `bad` (or
    `good`) decides on never had a type it compares while that matcher never matched, or its latency
    was never a number."""
    slo, problems, notes = tally.slo, list[str](), list[str]()
    if not tally.events:
        problems.append("matched no event in the sample")
    deciding = {role for role, _ in tally.matchers}
    mismatched = sample.lines.field_mismatch().get(slo.name, {})
    explained: set[str] = set()
    for use in tally.uses:
        found = _type_finding(use, tally, sample)
        if found is None:
            continue
        text, never = found
        if not never and use.path not in mismatched:  # it was read wherever it decided
            continue
        blocking = never and (use.role == "latency" or (use.role in deciding and not tally.matched[use.role]))
        (problems if blocking else notes).append(text)
        explained |= {use.path, use.role}
    for role in sorted(deciding - explained):
        if tally.events and not tally.matched[role]:
            notes.append(f"`{role}` matched no {'line' if slo.sli.kind is SLIKind.EVENT_PAIR else 'event'}")
    for path in read_paths(slo):
        if path not in sample.seen and path not in explained:
            hint = f"; the logs have it as a flat key: name it `/{path}`" if path in sample.flat else ""
            notes.append(f"{path} was never seen in any line{hint}")
    good, bad, excluded = map(int, tally.outcomes)
    events = {"events": tally.events, "good": good, "bad": bad, "excluded": excluded}
    return Finding(slo.name, events, mismatched, problems, notes)


def findings(sample: Sample) -> list[Finding]:
    return [find(tally, sample) for tally in sample.tallies]


def render_text(sample: Sample, found: list[Finding], limit: int) -> str:
    """The dry run for people: the sample, then per SLO its counts and what it could not read."""
    lines = sample.lines
    invalid = ", ".join(f"{k} {v}" for k, v in sorted(lines.invalid.items()))
    out = [
        f"sample: {lines.read} lines from {sample.files} file(s) (at most the first {limit} of each): "
        f"{lines.parsed} parsed, {lines.invalid_total} invalid{f' ({invalid})' if invalid else ''}, "
        f"{lines.unmatched} unmatched",
        "",
    ]
    for f in found:
        e = f.events
        counts = f"{e['events']} events: {e['good']} good, {e['bad']} bad, {e['excluded']} excluded"
        out.append(f"{f.name}: {'ok' if f.ok else 'CANNOT READ THESE LOGS'} — {counts}")
        out += [f"  ✗ {text}" for text in f.problems] + [f"  ! {text}" for text in f.notes]
        mismatched = [
            f"{field} {reason} in {n}"
            for field, reasons in f.field_mismatch.items()
            for reason, n in reasons.items()
        ]
        if mismatched:
            out.append(f"  field mismatches as backfill counts them: {', '.join(mismatched)} events")
    failing = sum(not f.ok for f in found)
    if failing:
        out += ["", f"{failing} of {len(found)} SLOs cannot read these logs"]
    elif any(f.notes or f.field_mismatch for f in found):
        out += ["", "every SLO can count these logs, with the warnings above"]
    else:
        out += ["", "every SLO reads these logs"]
    return "\n".join(out) + "\n"


def render_json(sample: Sample, found: list[Finding], limit: int) -> dict[str, Any]:
    """The dry run for machines."""
    lines = sample.lines
    return {
        "sample": {"files": sample.files, "lines_per_file": limit},
        "lines": {
            "read": lines.read,
            "parsed": lines.parsed,
            "invalid": lines.invalid_total,
            "unmatched": lines.unmatched,
        },
        "slos": [
            {
                "name": f.name,
                "ok": f.ok,
                "events": f.events,
                "field_mismatch": f.field_mismatch,
                "problems": f.problems,
                "notes": f.notes,
            }
            for f in found
        ],
        "ok": all(f.ok for f in found),
    }
