"""Parallel parse and classify for backfill: worker processes read byte blocks of a plain file.

The file is cut into blocks at newlines. A first round counts the lines each
block holds (while the first block, which needs no count, is observed), so that
every worker can cut its lines into exactly the batches a single process would
read (`BATCH_LINES` lines each, numbered from the start of the file). Each
worker maps the file, and parses and classifies its part of those batches; the
parent joins the parts of each batch in order. What comes out is batch for batch
what `ArchiveSource` + `Pipeline.observe` give, so the store, the alert timeline
and the report do not depend on the number of workers.
"""

from __future__ import annotations

import errno
import gc
import itertools
import mmap
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import msgspec
import numpy as np

from slotail.classify import Observations
from slotail.classify.series import Labels, SeriesRegistry
from slotail.config import Config
from slotail.errors import SourceError
from slotail.pipeline import LineStats, ObservedBatch, Pipeline
from slotail.sources.archive import BATCH_LINES, is_local, stored_format
from slotail.sources.batch import RawBatch
from slotail.sources.lines import LineBlock

BLOCK_BYTES = 4 << 20
MIN_BLOCKS = 2  # smaller files are read in-process: starting workers would cost more
DIED = "a worker died reading it (was it cut shorter?)"  # a SIGBUS on a mapped page it lost


class Block(msgspec.Struct, frozen=True):
    """Bytes [start, end) of a file; every block but the last ends just after a newline."""

    start: int
    end: int
    last: bool


class Part(msgspec.Struct, frozen=True):
    """The observations and line counts of one batch's lines that lie in one block."""

    batch: int
    observations: Observations
    lines: LineStats
    groups: dict[int, list[Labels]]  # grouped SLO -> the group tuples of its observations, in order


def cut_blocks(path: str, size: int, block_bytes: int = BLOCK_BYTES) -> list[Block]:
    """Blocks of about `block_bytes`, each extended to the end of the line it cuts."""
    cuts = [0]
    with open(path, "rb") as f:
        while cuts[-1] + block_bytes < size:
            f.seek(cuts[-1] + block_bytes)
            skipped = len(f.readline())  # to just past the next newline (or to the end)
            cuts.append(min(cuts[-1] + block_bytes + skipped, size))
    if cuts[-1] < size:
        cuts.append(size)
    return [Block(a, b, b == size) for a, b in itertools.pairwise(cuts)]


_PIPELINE: Pipeline | None = None
_MAX_LINE = 0


def _batch_gc() -> None:
    """Tune the garbage collector of a worker process, which parses batches until it is done:
    what start-up made is frozen out of collections, and the young generation holds a few
    batches. A batch's records, keys and lists hold no cycles and die together when it is done;
    at the default threshold (700 allocations) collections traversed them while alive, about 4%
    of a worker's time."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _start(config: Config, until_us: int | None) -> None:
    """Worker process start-up: its own pipeline, leaving group series for the parent to number."""
    global _PIPELINE, _MAX_LINE
    _PIPELINE, _MAX_LINE = Pipeline(config, until_us=until_us), config.store.max_line_bytes
    _PIPELINE.classifier.defer = True
    _batch_gc()


_MAPPED: dict[str, mmap.mmap] = {}  # the file this worker reads, mapped


def _mapped(path: str, block: Block) -> mmap.mmap | None:
    """The file, mapped rather than read: copying it out of the page cache cost ~50 ns a line, in
    each round. A file cut shorter while mapped kills the worker (SIGBUS); the parent reports it.
    None where the file cannot be mapped (a file system without mmap)."""
    mapped = _MAPPED.get(path)
    if mapped is None:
        _MAPPED.clear()  # one file at a time; the views of the last one died with its blocks
        with open(path, "rb") as f:
            try:
                mapped = _MAPPED[path] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                raise OSError(errno.EIO, "it is empty now") from None
            except OSError:
                return None
    if len(mapped) < block.end:
        raise OSError(errno.EIO, "it is shorter than when it was cut into blocks")
    return mapped


def _read(path: str, block: Block) -> tuple[bytes | mmap.mmap, int, int]:
    """A block's bytes and where they lie in them: the mapped file, or the block read into bytes
    where the file cannot be mapped."""
    mapped = _mapped(path, block)
    if mapped is not None:
        return mapped, block.start, block.end
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, block.end - block.start, block.start)
    finally:
        os.close(fd)
    return data, 0, len(data)


def _release(data: bytes | mmap.mmap, block: Block) -> None:
    """Unmap a block's pages from this process once it is read (the page cache keeps them): mapped
    pages count in a process's RSS, which would otherwise grow to the size of the file."""
    if not isinstance(data, bytes):  # mapped
        start = block.start - block.start % mmap.PAGESIZE
        data.madvise(mmap.MADV_DONTNEED, start, block.end - start)


def _count(path: str, block: Block) -> int:
    """How many lines a block holds (too-long lines aside)."""
    data, start, end = _read(path, block)
    try:
        return LineBlock.count(data, block.last, _MAX_LINE, start, end)
    finally:
        _release(data, block)


def _observe(path: str, block: Block, first_line: int) -> list[Part]:
    """Parse and classify a block's lines, cut at the file's batch boundaries."""
    assert _PIPELINE is not None
    data, start, end = _read(path, block)
    lines, too_long = LineBlock.split(memoryview(data)[start:end], block.last, _MAX_LINE)
    parts, i = list[Part](), 0
    while i < len(lines) or not parts:
        batch = (first_line + i) // BATCH_LINES
        stop = min(len(lines), (batch + 1) * BATCH_LINES - first_line)
        obs, stats = _PIPELINE.observe(
            RawBatch(path, lines.cut(i, stop), too_long if not parts else 0, block.end)
        )
        parts.append(Part(batch, obs, stats, _PIPELINE.classifier.deferred))
        i = stop
    _release(data, block)
    return parts


def worker_count(requested: str) -> int:
    """`auto` (the CPUs this process may run on) or a number of worker processes."""
    if requested == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(int(requested), 1)


class Workers:
    """A pool of worker processes, each with its own pipeline for the config."""

    def __init__(
        self, config: Config, workers: int, block_bytes: int | None = None, until_us: int | None = None
    ) -> None:
        self.workers = workers
        self.until_us = until_us
        self.block_bytes = block_bytes if block_bytes is not None else BLOCK_BYTES
        self._config = config
        self._pool: ProcessPoolExecutor | None = None

    def suits(self, path: str, skip: int) -> bool:
        """Whether a file is read in parallel: a local plain file of several blocks, read from its start,
        without an envelope (whose pieces of one line may lie across blocks)."""
        if self.workers < 2 or skip or self._config.envelope is not None or not is_local(path):
            return False
        try:
            size = os.path.getsize(path)
        except OSError:
            return False
        return size >= MIN_BLOCKS * self.block_bytes and stored_format(path) == "plain"

    def batches(self, path: str, stats: LineStats, registry: SeriesRegistry) -> Iterator[ObservedBatch]:
        """A plain file's batches, observed by the workers, in order; line counts also go to `stats`,
        group tuples to `registry` (batch by batch, as one process would place them)."""
        try:
            blocks = cut_blocks(path, os.path.getsize(path), self.block_bytes)
            pool = self._executor()
            # The first block needs no count: it is observed while the workers count the others.
            head = pool.submit(_observe, path, blocks[0], 0)
            counts = pool.map(_count, [path] * (len(blocks) - 1), blocks[:-1])  # the last one's is unused
            firsts = list(itertools.accumulate(counts, initial=0))  # the lines before each block
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
        except BrokenProcessPool:
            self.close()
            raise SourceError(f"cannot read {path}: {DIED}") from None
        yield from _joined(self._parts(path, blocks, firsts, head), stats, registry)

    def _parts(
        self, path: str, blocks: list[Block], firsts: list[int], head: Future[list[Part]]
    ) -> Iterator[tuple[Part, int]]:
        """Every block's parts, with the block's end offset (the first block's from `head`); a few
        blocks in flight at a time."""
        pool, pending = self._executor(), deque([(head, blocks[0].end)])
        try:
            for block, first in zip(blocks[1:], firsts[1:], strict=True):
                pending.append((pool.submit(_observe, path, block, first), block.end))
                if len(pending) > 2 * self.workers:
                    yield from _results(*pending.popleft())
            while pending:
                yield from _results(*pending.popleft())
        except BrokenProcessPool:
            self.close()  # the next file gets a new pool
            end = pending[0][1] if pending else blocks[-1].end
            raise SourceError(f"cannot read {path} past byte {end}: {DIED}") from None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start, initargs=(self._config, self.until_us)
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _results(future: Future[list[Part]], end: int) -> Iterator[tuple[Part, int]]:
    try:
        parts = future.result()
    except OSError as exc:
        raise SourceError(f"cannot read past byte {end}: {exc.strerror or exc}") from None
    for part in parts:
        yield part, end


def _joined(
    parts: Iterator[tuple[Part, int]], stats: LineStats, registry: SeriesRegistry
) -> Iterator[ObservedBatch]:
    """Consecutive parts of the same batch joined into one observed batch."""
    group: list[Part] = []
    offset = 0
    for part, end in parts:
        if group and part.batch != group[0].batch:
            yield _join(group, offset, stats, registry)
            group = []
        group.append(part)
        offset = end
    if group:
        yield _join(group, offset, stats, registry)


def _join(group: list[Part], offset: int, stats: LineStats, registry: SeriesRegistry) -> ObservedBatch:
    lines = LineStats()
    for part in group:
        lines.merge(part.lines)
    stats.merge(lines)
    obs = Observations.concat([p.observations for p in group])
    for slo in registry.grouped:  # in the order `Classifier.classify` places them
        tuples = [labels for part in group for labels in part.groups.get(slo, [])]
        if tuples:
            obs.series[np.flatnonzero(obs.series == slo)] = registry.place(slo, tuples)
    return ObservedBatch(obs, lines, offset)
