"""Turn parsed objects into observations: which SLO series, good/bad/excluded, and latency."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from slotail.classify.match import Predicate, compile_expr
from slotail.classify.mismatch import compile_diagnosis, latency_mismatch
from slotail.classify.series import Labels, SeriesRegistry
from slotail.config.expr import fields_read
from slotail.config.model import SLO, Config, LatencySpec, SLIKind
from slotail.outcomes import BAD, EXCLUDED, GOOD
from slotail.parse.lines import ParsedBatch, field_getter
from slotail.parse.record import MISSING, Layout
from slotail.paths import Path, format_path

Outcome = tuple[int, int]  # (outcome, latency in µs or -1)
Rule = Callable[[dict[str, Any]], Outcome | None]
Decide = Callable[[dict[str, Any]], int | None]  # an outcome, TIMED, or None when not an event
Int64s = npt.NDArray[np.int64]
MismatchKey = tuple[str, str, str]  # (slo, field, reason): what `slotail_field_mismatch_total` counts

TIMED = 3  # an event whose latency decides its outcome (the classes' own marker, never stored)
MAX_CLASSES = 1 << 12  # distinct per-SLO decision tuples kept; lines beyond are classified one by one

LATENCY_CAP_US = float(1 << 53)  # keeps absurd latencies inside int64; the store clamps further
_GOOD: Outcome = (GOOD, -1)
_BAD: Outcome = (BAD, -1)
_EXCLUDED: Outcome = (EXCLUDED, -1)


class Observations(msgspec.Struct, frozen=True):
    """One batch of observations as numpy columns."""

    series: npt.NDArray[np.int32]
    ts_us: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.int8]
    latency_us: npt.NDArray[np.int64]  # -1 where the SLI has no latency
    unmatched: int

    def __len__(self) -> int:
        return len(self.series)

    def select(self, which: npt.NDArray[Any] | slice) -> Observations:
        """The observations a mask, index array or slice picks (unmatched lines stay behind)."""
        return Observations(
            self.series[which], self.ts_us[which], self.outcome[which], self.latency_us[which], 0
        )

    @staticmethod
    def concat(parts: list[Observations]) -> Observations:
        """Observations of several batches, in order."""
        if len(parts) == 1:
            return parts[0]
        return Observations(
            np.concatenate([p.series for p in parts]),
            np.concatenate([p.ts_us for p in parts]),
            np.concatenate([p.outcome for p in parts]),
            np.concatenate([p.latency_us for p in parts]),
            sum(p.unmatched for p in parts),
        )

    @staticmethod
    def empty() -> Observations:
        return Observations(
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, np.int8),
            np.empty(0, np.int64),
            0,
        )


def _optional(expr: Any) -> Predicate | None:
    return compile_expr(expr) if expr is not None else None


def _ratio_rule(
    events: Predicate, good: Predicate | None, bad: Predicate | None, exclude: Predicate | None
) -> Rule:
    def rule(obj: dict[str, Any]) -> Outcome | None:
        if not events(obj):
            return None
        if exclude is not None and exclude(obj):
            return _EXCLUDED
        if bad is not None:
            if bad(obj):
                return _BAD
            return _GOOD if good is None or good(obj) else None
        return _GOOD if good(obj) else _BAD  # type: ignore[misc]

    return rule


def _pair_rule(good: Predicate, bad: Predicate, exclude: Predicate | None) -> Rule:
    def rule(obj: dict[str, Any]) -> Outcome | None:
        is_bad = bad(obj)
        if not is_bad and not good(obj):
            return None
        if exclude is not None and exclude(obj):
            return _EXCLUDED
        return _BAD if is_bad else _GOOD

    return rule


def _latency_rule(events: Predicate, exclude: Predicate | None, spec: LatencySpec) -> Rule:
    get, threshold, scale = field_getter(spec.path), spec.threshold, spec.scale_to_us

    def rule(obj: dict[str, Any]) -> Outcome | None:
        if not events(obj):
            return None
        if exclude is not None and exclude(obj):
            return _EXCLUDED
        value = get(obj)
        kind = type(value)
        if value is MISSING or not (kind is int or kind is float) or not 0 <= value < math.inf:
            return _EXCLUDED  # no usable latency
        return (BAD if value > threshold else GOOD, round(min(value * scale, LATENCY_CAP_US)))

    return rule


def compile_rule(slo: SLO) -> Rule:
    """The classification rule of one SLO."""
    sli = slo.sli
    exclude = _optional(sli.exclude)
    if sli.kind is SLIKind.LATENCY:
        assert sli.latency is not None
        return _latency_rule(compile_expr(sli.events), exclude, sli.latency)
    if sli.kind is SLIKind.EVENT_PAIR:
        return _pair_rule(compile_expr(sli.good), compile_expr(sli.bad), exclude)
    return _ratio_rule(compile_expr(sli.events), _optional(sli.good), _optional(sli.bad), exclude)


def _latency_decision(events: Predicate, exclude: Predicate | None) -> Decide:
    def decide(obj: dict[str, Any]) -> int | None:
        if not events(obj):
            return None
        return EXCLUDED if exclude is not None and exclude(obj) else TIMED

    return decide


def _outcome_decision(rule: Rule) -> Decide:
    def decide(obj: dict[str, Any]) -> int | None:
        found = rule(obj)
        return None if found is None else found[0]

    return decide


def compile_decision(slo: SLO) -> Decide:
    """An SLO's outcome from the fields its match expressions read: TIMED when the latency decides."""
    sli = slo.sli
    if sli.kind is SLIKind.LATENCY:
        return _latency_decision(compile_expr(sli.events), _optional(sli.exclude))
    return _outcome_decision(compile_rule(slo))


def key_fields(config: Config) -> list[Path]:
    """The paths every match expression of the config reads (latency fields aside), sorted."""
    paths: set[Path] = set()
    for slo in config.slos:
        for expr in (slo.sli.events, slo.sli.good, slo.sli.bad, slo.sli.exclude):
            if expr is not None:
                paths |= fields_read(expr)
    return sorted(paths)


def _tops(paths: Iterable[Path]) -> set[str]:
    return {p[0] for p in paths}


def _group_paths(config: Config) -> set[Path]:
    return {p for slo in config.slos for p in slo.group_paths}


def read_fields(config: Config) -> list[Path]:
    """Every path the config reads from a line (the timestamp aside): what a record holds."""
    return sorted(set(key_fields(config)) | _group_paths(config) | set(_latency_fields(config)))


def number_fields(config: Config) -> list[str]:
    """Top-level fields the config reads only as a latency (a number): records hold them as floats.
    Not a field declared `number`, whose strings are read (and then converted)."""
    read = [*key_fields(config), *_group_paths(config), config.timestamp.path, *config.number_paths]
    elsewhere = _tops(read)
    return sorted(p[0] for p in set(_latency_fields(config)) if len(p) == 1 and p[0] not in elsewhere)


def _latency_fields(config: Config) -> list[Path]:
    return [slo.sli.latency.path for slo in config.slos if slo.sli.latency is not None]


def key_function(fields: list[Path], layout: Layout | None = None) -> Callable[[Any], tuple[Any, ...]]:
    """A function from an object (a record of `layout`, or a dict) to its values at `fields`, as one
    tuple (MISSING where absent).

    On records of top-level fields it is one `operator.attrgetter`, all in C. Otherwise the code is
    generated (as `collections.namedtuple` does), about half the time of `tuple(map(obj.get, ...))`;
    names and getters are bound in its namespace, never spliced in.
    """
    if layout is not None and (getter := layout.key_getter(fields)) is not None:
        return getter
    namespace: dict[str, Any] = {"MISSING": MISSING}
    parts = []
    for i, path in enumerate(fields):
        if layout is not None or len(path) > 1:
            namespace[f"get{i}"] = layout.getter(path) if layout is not None else field_getter(path)
            parts.append(f"get{i}(obj)")
        else:
            namespace[f"name{i}"] = path[0]
            parts.append(f"get(name{i}, MISSING)")
    bind = "    get = obj.get\n" if any(p.startswith("get(") for p in parts) else ""  # dicts only
    source = f"def key(obj):\n{bind}    return ({', '.join(parts)}{',' if len(parts) == 1 else ''})\n"
    exec(source, namespace)  # the source holds only indexes: names and getters live in `namespace`
    key: Callable[[Any], tuple[Any, ...]] = namespace["key"]
    return key


def cacheable(key: tuple[Any, ...]) -> bool:
    """Whether a key's outcome may be shared by equal keys: not when `True == 1` could mix types
    (such a key is cached with the types of its values)."""
    for value in key:
        kind = type(value)
        if kind is bool or ((kind is int or kind is float) and (value == 0 or value == 1)):
            return False
    return True


NUMERIC = frozenset({int, float})  # JSON numbers: never bool


def numbers(events: list[Any], get: Callable[[Any], Any], floats: bool = False) -> npt.NDArray[np.float64]:
    """A field's value (`get`) on each event as a float; NaN where it is not a number (or is a bool).
    `floats`: the events are records that hold the field as a float already."""
    found = list(map(get, events))
    if floats or {*map(type, found)} <= NUMERIC:  # all numbers, all in C
        return np.array(found, np.float64)
    nan = math.nan
    return np.array([v if type(v) is float or type(v) is int else nan for v in found], np.float64)


def judge(values: npt.NDArray[np.float64], spec: LatencySpec) -> tuple[Int64s, Int64s]:
    """(outcome, latency µs) of timed events, exactly as the per-line latency rule decides them."""
    usable = (values >= 0) & (values < math.inf)
    outcome = np.where(usable, np.where(values > spec.threshold, BAD, GOOD), EXCLUDED)
    scaled = np.rint(np.minimum(np.where(usable, values, 0.0) * spec.scale_to_us, LATENCY_CAP_US))
    return outcome, np.where(usable, scaled.astype(np.int64), -1)


class KeyClasses:
    """Distinct per-SLO decisions (with the field mismatches they come with), as flat numpy tables of
    hits (series, decision) per class, and of (class, mismatch) pairs."""

    def __init__(self) -> None:
        self.ids: dict[tuple[tuple[int | None, ...], tuple[int, ...]], int] = {}
        self._first: list[int] = []
        self._count: list[int] = []
        self._sid: list[int] = []
        self._decision: list[int] = []
        self._flagged: list[tuple[int, int]] = []  # (class, mismatch id) for every mismatch of a class
        self.tables: tuple[npt.NDArray[np.int64], ...] = ()
        self.flag_tables: tuple[npt.NDArray[np.int64], ...] = ()

    def intern(self, decisions: tuple[int | None, ...], mismatches: tuple[int, ...] = ()) -> int:
        """The class id of a tuple of decisions (one per SLO, None where the line is not an event) and
        the ids of the field mismatches of those events."""
        cid = self.ids.get((decisions, mismatches))
        if cid is None:
            cid = self.ids[decisions, mismatches] = len(self.ids)
            hits = [(sid, d) for sid, d in enumerate(decisions) if d is not None]
            self._first.append(len(self._sid))
            self._count.append(len(hits))
            self._sid += [sid for sid, _ in hits]
            self._decision += [d for _, d in hits]
            self._flagged += [(cid, m) for m in mismatches]
            self.tables = self.flag_tables = ()
        return cid

    def flags(self) -> tuple[npt.NDArray[np.int64], ...]:
        """(class, mismatch id) columns of every mismatch of every class."""
        if not self.flag_tables:
            pairs = np.array(self._flagged, np.int64).reshape(-1, 2)
            self.flag_tables = (pairs[:, 0], pairs[:, 1])
        return self.flag_tables

    def arrays(self) -> tuple[npt.NDArray[np.int64], ...]:
        """(first hit, hit count) per class and (series, decision) per hit."""
        if not self.tables:
            self.tables = tuple(
                np.array(v, np.int64) for v in (self._first, self._count, self._sid, self._decision)
            )
        return self.tables


class Classifier:
    """Applies every SLO's compiled rule to each parsed object; series as `registry` numbers them.

    Lines are classified by key, the values of the fields the match expressions
    read: each distinct key is evaluated once and cached (up to `cache_size`
    keys); latencies are then compared with thresholds in numpy.
    """

    def __init__(
        self,
        config: Config,
        cache_size: int = 1 << 14,
        registry: SeriesRegistry | None = None,
        layout: Layout | None = None,
    ) -> None:
        self.registry = registry if registry is not None else SeriesRegistry(config.slos)
        self.defer = False  # leave grouped observations on their SLO's series, tuples in `deferred`
        self.deferred: dict[int, list[Labels]] = {}  # the last batch's group tuples, by grouped SLO
        self.rules = [(i, compile_rule(slo)) for i, slo in enumerate(config.slos)]
        self.decisions = [compile_decision(slo) for slo in config.slos]
        self.diagnoses = [compile_diagnosis(slo) for slo in config.slos]
        self.slo_names = [slo.name for slo in config.slos]
        self.latency_fields: dict[Path, dict[int, LatencySpec]] = {}
        self.latency_of: dict[int, Path] = {}  # SLO -> its latency field
        for i, slo in enumerate(config.slos):
            if slo.sli.latency is not None:
                self.latency_fields.setdefault(slo.sli.latency.path, {})[i] = slo.sli.latency
                self.latency_of[i] = slo.sli.latency.path
        getter = field_getter if layout is None else layout.getter
        self.latency_getters = {field: getter(field) for field in self.latency_fields}
        self.latency_floats = {
            field: layout is not None and len(field) == 1 and field[0] in layout.numbers
            for field in self.latency_fields
        }
        self.fields = key_fields(config)
        self.key = key_function(self.fields, layout)
        self.cache: dict[Any, int] = {}  # key -> class; keys not `cacheable` with their values' types
        self.cache_size = cache_size
        self.classes = KeyClasses()
        self.mismatch_keys: list[MismatchKey] = []  # by mismatch id
        self._mismatch_ids: dict[MismatchKey, int] = {}
        self.mismatches: Counter[MismatchKey] = Counter()  # the last batch's field mismatches

    def classify(self, batch: ParsedBatch) -> Observations:
        """A batch's observations, in line order and then series order (its field mismatches in
        `mismatches`)."""
        cids = self._class_ids(batch.events)
        tally = self._class_mismatches(cids)
        line, sid, decision, per_line = self._hits(cids)
        outcome, latency = self._resolve(batch, line, sid, decision, tally)
        unmatched = int(np.count_nonzero((per_line == 0) & (cids >= 0)))
        slow = np.flatnonzero(cids < 0)
        if len(slow):
            extra, missed = self._one_by_one(batch, slow, tally)
            line, sid, outcome, latency = (
                np.concatenate(p) for p in zip((line, sid, outcome, latency), extra, strict=True)
            )
            order = np.argsort(line, kind="stable")
            line, sid, outcome, latency = line[order], sid[order], outcome[order], latency[order]
            unmatched += missed
        self.mismatches = Counter({self.mismatch_keys[m]: n for m, n in tally.items() if n})
        self.deferred = {}
        for slo in self.registry.grouped:
            mine = np.flatnonzero(sid == slo)
            if len(mine):
                tuples = self.registry.tuples(slo, batch.events, line[mine])
                if self.defer:  # a worker: the parent places them, in the one-process order
                    self.deferred[slo] = tuples
                else:
                    sid[mine] = self.registry.place(slo, tuples)
        return Observations(
            sid.astype(np.int32), batch.ts_us[line], outcome.astype(np.int8), latency, unmatched
        )

    def _hits(self, cids: Int64s) -> tuple[Int64s, Int64s, Int64s, Int64s]:
        """(line, series, decision) of every hit of the cached classes, and the hits per line."""
        first, count, hit_sid, hit_decision = self.classes.arrays()
        per_line = np.where(cids < 0, 0, count[np.maximum(cids, 0)]) if len(count) else np.zeros_like(cids)
        line = np.repeat(np.arange(len(cids)), per_line)
        within = np.arange(len(line)) - np.repeat(np.cumsum(per_line) - per_line, per_line)
        hit = first[cids[line]] + within
        return line, hit_sid[hit], hit_decision[hit], per_line

    def _class_ids(self, events: list[Any]) -> Int64s:
        """Each object's class id, or -1 where it must be classified on its own."""
        key, cache = self.key, self.cache
        try:
            ids = list(map(cache.get, map(key, events)))  # no list of keys: most are found
        except TypeError:  # an unhashable value (a list or object) in some key
            ids = [self._cached(key(event)) for event in events]
        if None in ids:
            for i in [i for i, cid in enumerate(ids) if cid is None]:
                ids[i] = self._miss(key(events[i]), events[i])
        return np.array(ids, np.int64)

    def _cached(self, key: tuple[Any, ...]) -> int | None:
        try:
            return self.cache.get(key)
        except TypeError:
            return -1

    def _miss(self, key: tuple[Any, ...], obj: Any) -> int:
        """Evaluate an uncached key's object once; cache its class while there is room."""
        if not cacheable(key):
            key = (key, tuple(map(type, key)))  # `True` and `1` apart
        cid = self.cache.get(key)  # an earlier line of the batch may have cached it
        if cid is not None:
            return cid
        if len(self.classes.ids) >= MAX_CLASSES:
            return -1
        decisions = tuple(decide(obj) for decide in self.decisions)
        cid = self.classes.intern(decisions, self._diagnose(obj, decisions))
        if len(self.cache) < self.cache_size:
            self.cache[key] = cid
        return cid

    def _mismatch_id(self, slo: int, field: str, reason: str) -> int:
        key = (self.slo_names[slo], field, reason)
        found = self._mismatch_ids.get(key)
        if found is None:
            found = self._mismatch_ids[key] = len(self.mismatch_keys)
            self.mismatch_keys.append(key)
        return found

    def _diagnose(self, obj: Any, decisions: tuple[int | None, ...]) -> tuple[int, ...]:
        """The mismatch ids of an object's match expressions, on the SLOs it is an event of."""
        found = {
            self._mismatch_id(slo, field, reason)
            for slo, d in enumerate(decisions)
            if d is not None
            for field, reason in self.diagnoses[slo](obj)
        }
        return tuple(sorted(found))

    def _class_mismatches(self, cids: Int64s) -> Counter[int]:
        """Events by mismatch id of the cached classes' lines: a count per class, then per mismatch."""
        classes, ids = self.classes.flags()
        if not len(classes):  # no class has any: nothing to count
            return Counter()
        per_class = np.bincount(cids[cids >= 0], minlength=len(self.classes.ids))
        per_id = np.zeros(len(self.mismatch_keys), np.int64)
        np.add.at(per_id, ids, per_class[classes])
        return Counter(dict(zip(np.flatnonzero(per_id).tolist(), per_id[per_id > 0].tolist(), strict=True)))

    def _latency_mismatches(self, events: list[Any], lines: list[int], slo: int, tally: Counter[int]) -> None:
        """Count the lines (timed events of `slo` whose latency is no number) by why."""
        path = self.latency_of[slo]
        get, field = self.latency_getters[path], format_path(path)
        for i in lines:
            reason = latency_mismatch(get(events[i]))
            if reason is not None:
                tally[self._mismatch_id(slo, field, reason)] += 1

    def _resolve(
        self, batch: ParsedBatch, line: Int64s, sid: Int64s, decision: Int64s, tally: Counter[int]
    ) -> tuple[Int64s, Int64s]:
        """(outcome, latency µs) of the cached hits, reading latencies where they decide; latencies
        that are no number go to `tally`."""
        outcome = decision.copy()
        latency = np.full(len(line), -1, np.int64)
        timed = np.flatnonzero(decision == TIMED)
        if len(timed):
            timed_sid = sid[timed]
            for field, specs in self.latency_fields.items():
                get, floats = self.latency_getters[field], self.latency_floats[field]
                values = numbers(batch.events, get, floats)  # one column a batch
                for series, spec in specs.items():
                    mine = timed[timed_sid == series]
                    if len(mine):
                        read = values[line[mine]]
                        outcome[mine], latency[mine] = judge(read, spec)
                        if np.isnan(read).any():  # no number: missing or of another type
                            self._latency_mismatches(
                                batch.events, line[mine[np.isnan(read)]].tolist(), series, tally
                            )
        return outcome, latency

    def _one_by_one(
        self, batch: ParsedBatch, slow: Int64s, tally: Counter[int]
    ) -> tuple[tuple[Int64s, Int64s, Int64s, Int64s], int]:
        """(line, series, outcome, latency) of lines classified by the per-line rules, and how many
        missed; their field mismatches go to `tally`, as their classes' would."""
        for i in slow.tolist():
            obj = batch.events[i]
            decisions = tuple(decide(obj) for decide in self.decisions)
            tally.update(self._diagnose(obj, decisions))
            for slo in [slo for slo, d in enumerate(decisions) if d == TIMED]:
                self._latency_mismatches(batch.events, [i], slo, tally)
        hits = [
            (i, sid, found)
            for i in slow.tolist()
            for sid, rule in self.rules
            if (found := rule(batch.events[i]))
        ]
        missed = len(slow) - len({i for i, _, _ in hits})
        columns = (
            [i for i, _, _ in hits],
            [sid for _, sid, _ in hits],
            [found[0] for _, _, found in hits],
            [found[1] for _, _, found in hits],
        )
        return tuple(np.array(c, np.int64) for c in columns), missed  # type: ignore[return-value]
