"""Backfill: the pipeline over finite archives, evaluated in event time.

Archives may come in any order and may overlap in time (one per pod). Each is
peeked for its first timestamp; they are then read together, always advancing
the one furthest behind, so the store fills in event-time order. Alerts are
evaluated at every step once every source has moved `lateness` past it.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Iterator

import msgspec
import numpy as np
import numpy.typing as npt

from slotail.classify import Observations
from slotail.config import Config
from slotail.engine import Engine, ManualClock, WallClock
from slotail.engine.engine import Evaluation, build_store
from slotail.engine.snapshot import Snapshot
from slotail.errors import SourceError
from slotail.pipeline import LineStats, ObservedBatch, Pipeline, observed_batches, parser_for
from slotail.sources.archive import STDIN, ArchiveSource
from slotail.store import Store
from slotail.store.layout import AHEAD_S
from slotail.timeutil import US, format_duration
from slotail.workers import Workers

TAKE_SPAN_US = 60 * US  # event time taken from one source before looking at the others
NEVER = math.inf
EVAL_CHUNK = 2048  # alert steps evaluated together
BUFFER_MAX = 1 << 18  # observations buffered before an early flush (flushing early is always exact)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> None:
    """Have glibc's malloc keep freed memory for reuse in this process (and the workers it forks).

    A backfill allocates and frees blocks, batches and arrays of the same sizes over and over. With
    malloc's default (dynamic) thresholds, large ones were unmapped or trimmed when freed and each
    reuse faulted fresh zeroed pages back in: 80,000 page faults and 0.17 s of system time for 1M
    lines, against 14,000 and 0.06 s like this. A no-op where malloc is not glibc's."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_TRIM_THRESHOLD, 256 << 20)
    mallopt(M_MMAP_THRESHOLD, 64 << 20)


class Diagnostics(msgspec.Struct):
    """Events that could not be counted exactly as they came, by rule."""

    late: int = 0  # arrived after alert steps covering them were evaluated (still counted)
    too_old: int = 0  # older than the store holds
    after_at: int = 0  # lines stamped after --at, ignored (no events, no group series)
    series_overflow: dict[str, int] = msgspec.field(default_factory=dict)  # grouped SLO -> events in overflow
    source_errors: list[str] = msgspec.field(default_factory=list)
    failed_paths: set[str] = msgspec.field(default_factory=set)

    def source_error(self, path: str, message: str) -> None:
        self.source_errors.append(message)
        self.failed_paths.add(path)


class BackfillResult(msgspec.Struct, frozen=True):
    """What a backfill run produced."""

    snapshot: Snapshot
    lines: LineStats
    diagnostics: Diagnostics
    first_event_us: int | None


def first_timestamp(path: str, config: Config) -> float:
    """The first parseable timestamp in an archive (infinity when there is none)."""
    parser = parser_for(config)
    # 64 KiB reads: the first timestamp is near the start (a 1 MiB read and split took 1.7 ms).
    archive = ArchiveSource(path, config.store.max_line_bytes, batch_lines=256, chunk=1 << 16)
    try:
        for raw in archive.batches():
            stamps = parser.parse(raw.lines).ts_us
            if len(stamps):
                return float(stamps[0])
    except SourceError:
        return NEVER
    finally:
        archive.close()
    return NEVER


def step_problem(step_s: int, config: Config) -> str | None:
    """Why a step cannot be evaluated exactly (windows end on bucket edges), or None."""
    if not step_s % config.store.bucket:
        return None
    step, bucket = format_duration(step_s), format_duration(config.store.bucket)
    return f"{step} is not a whole number of the store's {bucket} buckets (store.bucket), where windows end"


class Stream:
    """One archive's observations, taken in time slices."""

    def __init__(
        self,
        path: str,
        first_us: float | None,
        batches: Iterator[ObservedBatch],
        on_lines: Callable[[LineStats], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        """`first_us` None: an archive that can be read only once (standard input), whose first
        batch is read now to place it in time."""
        self.path = path
        self._batches = batches
        self._on_lines = on_lines
        self._on_error = on_error
        self._pending = Observations.empty()  # the latest batch, sorted by time
        self._taken = 0  # how many of it are taken
        self._head = NEVER  # the time of the first not taken
        self.done = False
        self.offset = 0
        self.first_us = first_us if first_us is not None else self.head_us

    def _fill(self) -> None:
        while self._taken == len(self._pending.ts_us) and not self.done:
            try:
                batch = next(self._batches)
            except StopIteration:
                self.done = True
                return
            except SourceError as exc:
                self._on_error(self.path, str(exc))
                self.done = True
                return
            self.offset = batch.offset
            self._on_lines(batch.lines)
            obs = batch.observations
            order = np.argsort(obs.ts_us, kind="stable")
            self._pending, self._taken = (obs.select(order) if len(obs) else obs), 0
            self._head = float(self._pending.ts_us[0]) if len(obs) else NEVER

    @property
    def head_us(self) -> float:
        """The earliest pending event time (infinity once exhausted)."""
        self._fill()
        return self._head

    def take_until(self, limit_us: float) -> Observations:
        """The pending events at or before `limit_us`, sorted by time."""
        self._fill()
        times = self._pending.ts_us
        cut = max(self._taken, int(times.searchsorted(limit_us, side="right")))
        taken = self._pending.select(slice(self._taken, cut))
        self._taken = cut
        self._head = float(times[cut]) if cut < len(times) else NEVER
        return taken


class Backfill:
    """Runs the pipeline over archives and evaluates alerts at every step of event time."""

    def __init__(
        self,
        config: Config,
        step_s: int = 60,
        at_us: int | None = None,
        lateness_s: int = 300,
        on_progress: Callable[[int], None] | None = None,
        store: Store | None = None,
        pipeline: Pipeline | None = None,
        on_evaluation: Callable[[Evaluation], None] | None = None,
        workers: int = 1,
    ) -> None:
        """`store` and `pipeline` may be a running sidecar's, for a warm start; `on_evaluation`
        sees every window of every SLO at each step (for OpenMetrics export); `workers` > 1 parses
        and classifies large plain files in that many processes, with the same result."""
        if problem := step_problem(step_s, config):
            raise ValueError(problem)
        self.config = config
        self.step_us = step_s * US
        self.at_us = at_us
        self.lateness_us = lateness_s * US
        self.on_progress = on_progress
        self.on_evaluation = on_evaluation
        self.store = store if store is not None else build_store(config)
        if pipeline is not None and at_us is not None:
            raise ValueError("a backfill evaluated `at` a time reads through its own pipeline")
        self.pipeline = pipeline if pipeline is not None else Pipeline(config, self.store.registry, at_us)
        self.workers = Workers(config, workers, until_us=at_us) if workers > 1 else None
        self.lines = LineStats()
        self.counted = np.zeros((self.store.n_series, 3), np.int64)  # kept events by series and outcome
        self.clock = ManualClock()
        self.engine = Engine(config, self.store, self.clock)
        self.diagnostics = Diagnostics()
        self._first: int | None = None
        self._latest: int | None = None
        self._evaluated: int | None = None  # last step evaluated
        # Ingest and evaluation are deferred and done in bulk, never past what exactness allows.
        self._buffer: list[Observations] = []
        self._span: tuple[int, int] | None = None  # event times the buffer holds
        self._buffered = 0  # observations the buffer holds
        self._due: int | None = None  # how far evaluation is owed
        self._since: int | None = None  # `_due` at the last flush
        self._defer_us = max(0, AHEAD_S * US - self.lateness_us - TAKE_SPAN_US - self.step_us)

    def run(self, paths: list[str], skip: dict[str, int] | None = None) -> BackfillResult:
        """Read every path (after `skip[path]` content bytes) and evaluate up to the end."""
        streams = [
            Stream(
                p,
                None if p == STDIN else first_timestamp(p, self.config),
                self._batches(p, (skip or {}).get(p, 0)),
                self._count_lines,
                self.diagnostics.source_error,
            )
            for p in paths
        ]
        try:
            self._drain(sorted(streams, key=lambda s: s.first_us))
        finally:
            if self.workers is not None:
                self.workers.close()
        self._flush()
        at = self.at_us if self.at_us is not None else self._latest
        if at is None:
            at = WallClock().now_us()  # no events at all: report "no data" as of now
        self._evaluate_until(at, final=True)
        self.clock.set(at)
        self.diagnostics.series_overflow = self.pipeline.registry.overflow_by_slo()
        self.diagnostics.after_at = self.lines.after_until
        return BackfillResult(self.engine.snapshot(), self.lines, self.diagnostics, self._first)

    def _count_lines(self, lines: LineStats) -> None:
        self.lines.merge(lines)
        self.pipeline.warn(lines)

    def _batches(self, path: str, skip: int) -> Iterator[ObservedBatch]:
        """A file's observed batches: from the worker processes when it suits them, else in-process."""
        if self.workers is not None and self.workers.suits(path, skip):
            return self.workers.batches(path, self.pipeline.stats, self.pipeline.registry)
        return observed_batches(path, self.pipeline, self.config.store.max_line_bytes, skip)

    def _drain(self, waiting: list[Stream]) -> None:
        active: list[Stream] = []
        read = {s.path: 0 for s in waiting}
        while active or waiting:
            frontier = min((s.head_us for s in active), default=NEVER)
            while waiting and (waiting[0].first_us <= frontier + TAKE_SPAN_US or not active):
                active.append(waiting.pop(0))
                frontier = min(frontier, active[-1].head_us)
            stream = min(active, key=lambda s: s.head_us)
            if stream.head_us == NEVER:
                active.remove(stream)
            else:
                self._take(stream.take_until(stream.head_us + TAKE_SPAN_US))
            if self.on_progress and stream.offset != read[stream.path]:
                self.on_progress(stream.offset - read[stream.path])
                read[stream.path] = stream.offset
            heads = [s.head_us for s in active] + [s.first_us for s in waiting[:1]]
            low = min(heads, default=NEVER)
            if low != NEVER:
                self._schedule(int(low) - self.lateness_us)

    def _take(self, obs: Observations) -> None:
        """Buffer observations (sorted by time, as a stream takes them), flushing first if they could
        land differently than ingested at once."""
        if not len(obs):
            return
        first, last = int(obs.ts_us[0]), int(obs.ts_us[-1])
        low, high = (min(first, self._span[0]), max(last, self._span[1])) if self._span else (first, last)
        late = self._due is not None and first <= self._due
        if late or high - low > AHEAD_S * US:  # a late event, or a span a ring could wrap within
            self._flush()
            low, high = first, last
        self._buffer.append(obs)
        self._span = (low, high)
        self._buffered += len(obs)
        if self._buffered >= BUFFER_MAX:  # a busy log: memory is bounded by events, not time alone
            self._flush()

    def _schedule(self, until_us: int) -> None:
        """Owe evaluation up to `until_us`; pay once `_defer_us` of steps are owed."""
        self._due = until_us if self._due is None else max(self._due, until_us)
        if self._since is None:
            self._since = self._due
        if self._due - self._since >= self._defer_us:
            self._flush()

    def _flush(self) -> None:
        """Ingest the buffer and evaluate what is owed, as the per-take order would have."""
        if self._buffer:
            self._ingest(Observations.concat(self._buffer))
            self._buffer, self._span, self._buffered = [], None, 0
        if self._due is not None:
            self._evaluate_until(self._due)
        self._since = self._due

    def _ingest(self, obs: Observations) -> None:
        if not len(obs):
            return
        low, high = int(obs.ts_us.min()), int(obs.ts_us.max())
        self._first = low if self._first is None else min(self._first, low)
        self._latest = high if self._latest is None else max(self._latest, high)
        if self._evaluated is not None:
            self.diagnostics.late += int(np.count_nonzero(obs.ts_us <= self._evaluated))
        kept, counts = self.store.add_counted(obs)
        self.diagnostics.too_old += int(len(kept) - np.count_nonzero(kept))
        if len(self.counted) < self.store.n_series:  # new group series
            grown = np.zeros((self.store.n_series, 3), np.int64)
            grown[: len(self.counted)] = self.counted
            self.counted = grown
        self.counted += counts

    def _evaluate_until(self, until_us: int, final: bool = False) -> None:
        if self._first is None:
            return
        if self.at_us is not None:
            until_us = min(until_us, self.at_us)
        step = self.step_us
        start = self._evaluated + step if self._evaluated is not None else -(-self._first // step) * step
        for chunk_start in range(start, until_us + 1, step * EVAL_CHUNK):
            chunk_end = min(chunk_start + step * EVAL_CHUNK, until_us + 1)
            self._evaluate(np.arange(chunk_start, chunk_end, step, dtype=np.int64))
        if final and self._evaluated != until_us and until_us >= self._first:
            self._evaluate(np.array([until_us], np.int64))

    def _evaluate(self, times: npt.NDArray[np.int64]) -> None:
        evaluation = self.engine.evaluate_alerts(times, every_window=self.on_evaluation is not None)
        if self.on_evaluation is not None:
            self.on_evaluation(evaluation)
        self._evaluated = int(times[-1])
